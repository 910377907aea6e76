import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkQueue } from '../../server/src/protocols/chunk-queue.js';

test('takes exact byte counts across chunk boundaries and ignores empty chunks', () => {
  const queue = new ChunkQueue();
  const bytes = Buffer.from('abcdefghijklmnopqrstuvwxyz');
  let at = 0;
  for (const size of [1, 0, 3, 5, 0, 2, 7, 8]) {
    queue.push(bytes.subarray(at, at + size));
    at += size;
  }
  assert.equal(queue.length, 26);
  assert.equal(queue.peek(6).toString(), 'abcdef');
  assert.equal(queue.take(2).toString(), 'ab');
  assert.equal(queue.take(9).toString(), 'cdefghijk');
  assert.equal(queue.peek(100).toString(), 'lmnopqrstuvwxyz');
  assert.equal(queue.take(1).toString(), 'l');
  assert.equal(queue.takeAll().toString(), 'mnopqrstuvwxyz');
  assert.equal(queue.length, 0);
  assert.equal(queue.take(5).length, 0);
});

test('a view when the bytes lie in one chunk, one copy otherwise', () => {
  const queue = new ChunkQueue();
  const first = Buffer.from('hello world');
  queue.push(first);
  queue.push(Buffer.from('!'));
  const view = queue.take(5);
  const spanning = queue.take(7);
  first.fill('x');
  assert.equal(view.toString(), 'xxxxx', 'no copy within a chunk');
  assert.equal(spanning.toString(), ' world!', 'one copy across chunks');
});

test('a message dribbled a byte at a time costs O(bytes): consumed slots are dropped, nothing is re-joined', () => {
  const queue = new ChunkQueue();
  const total = 200_000;
  const message = Buffer.alloc(total, 7);
  for (let i = 0; i < total; i += 1) {
    queue.push(message.subarray(i, i + 1));
    // What a reader does on every arrival: look at the header, see the message is not whole yet.
    assert.equal(queue.peek(8).length, Math.min(8, i + 1));
  }
  assert.deepEqual(queue.take(total), message);
  for (let i = 0; i < 1000; i += 1) {
    queue.push(Buffer.from([i & 0xff]));
    assert.equal(queue.take(1)[0], i & 0xff);
  }
  assert.equal(queue.length, 0);
});
