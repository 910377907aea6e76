import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../server/src/protocols/buffer-pool.js';

test('a buffer given back is lent again; none is lent twice at once', () => {
  const pool = new BufferPool(1024, 4);
  const a = pool.take();
  const b = pool.take();
  assert.notEqual(a, b);
  assert.equal(a.length, 1024);
  pool.give(a);
  assert.equal(pool.take(), a, 'reused');
  assert.equal(pool.allocated, 2);
});

test('giving a buffer back twice keeps it once; a stranger is not kept', () => {
  const pool = new BufferPool(1024, 4);
  const a = pool.take();
  pool.give(a);
  pool.give(a);
  pool.give(Buffer.alloc(1024));
  const first = pool.take();
  const second = pool.take();
  assert.equal(first, a);
  assert.notEqual(second, a, 'the same buffer is never lent to two reads');
});

test('at most maxFree buffers are kept; the rest are left to the GC', () => {
  const pool = new BufferPool(16, 2);
  const lent = [pool.take(), pool.take(), pool.take()];
  for (const buffer of lent) pool.give(buffer);
  pool.take();
  pool.take();
  pool.take();
  assert.equal(pool.allocated, 4, 'two reused, one allocated anew');
});
