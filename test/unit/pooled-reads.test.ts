import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../server/src/protocols/buffer-pool.js';
import { MAX_EARLY_READ_BYTES, PooledReads } from '../../server/src/protocols/pooled-reads.js';

/** What net does for each read: takes a buffer, fills it, calls back. */
function read(reads: PooledReads, bytes: Buffer): boolean | void {
  const { buffer, callback } = reads.onread as { buffer: () => Buffer; callback: (n: number, b: Buffer) => boolean | void };
  const target = buffer();
  bytes.copy(target);
  return callback(bytes.length, target);
}

test('before a sink, reads are copied out (the handshake) and their buffers reused at once', () => {
  const pool = new BufferPool(64, 4);
  const reads = new PooledReads(pool);
  const copies: Buffer[] = [];
  reads.copyTo((chunk) => copies.push(chunk));
  read(reads, Buffer.from('RFB 003.008\n'));
  read(reads, Buffer.from('next'));
  assert.deepEqual(copies.map(String), ['RFB 003.008\n', 'next']);
  assert.equal(pool.allocated, 1, 'one buffer served both reads');
});

test('a sink gets views into the pooled buffers, each reused only once released', () => {
  const pool = new BufferPool(64, 4);
  const reads = new PooledReads(pool);
  const held: { view: Buffer; release: () => void }[] = [];
  reads.sinkTo((view, release) => {
    held.push({ view, release });
    return true;
  });
  read(reads, Buffer.from('one'));
  read(reads, Buffer.from('two'));
  assert.deepEqual(held.map((h) => String(h.view)), ['one', 'two'], 'a view is not overwritten while held');
  assert.equal(pool.allocated, 2);
  held[0]?.release();
  held[0]?.release();
  read(reads, Buffer.from('three'));
  read(reads, Buffer.from('four'));
  assert.equal(pool.allocated, 3, 'the released buffer came back once');
  assert.equal(String(held[1]?.view), 'two');
});

test('what is read while nobody listens goes first to the next listener; past the allowance reading pauses', () => {
  const pool = new BufferPool(MAX_EARLY_READ_BYTES, 4);
  const reads = new PooledReads(pool);
  assert.equal(read(reads, Buffer.from('early')), true);
  assert.equal(read(reads, Buffer.alloc(MAX_EARLY_READ_BYTES)), false, 'a VM sending what it does not owe is paused');
  const seen: string[] = [];
  reads.sinkTo((view) => {
    seen.push(view.length > 10 ? `${view.length} bytes` : String(view));
    return true;
  });
  assert.deepEqual(seen, ['early', `${MAX_EARLY_READ_BYTES} bytes`]);
});

test('with room, each read lands after it in its pooled buffer, the room is the sink’s, and the whole buffer goes back', () => {
  const pool = new BufferPool(64, 4);
  const reads = new PooledReads(pool, 10);
  const held: { view: Buffer; release: () => void; room: number }[] = [];
  reads.sinkTo((view, release, room) => {
    held.push({ view, release, room });
    return true;
  });
  read(reads, Buffer.from('one'));
  const first = held[0];
  assert.ok(first);
  assert.equal(first.room, 10);
  assert.equal(first.view.byteOffset, 10, 'the room is in front of the view, in the same buffer');
  assert.equal(String(first.view), 'one');
  first.release();
  const lent = pool.take();
  assert.equal(lent.buffer, first.view.buffer, 'the pooled buffer itself came back, not the view');
  assert.equal(lent.length, 64);
});
