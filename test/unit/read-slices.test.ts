import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { READ_SLICE_BYTES, sliceReads } from '../../server/src/ws/read-slices.js';

function setup(): { socket: PassThrough; webSocket: EventEmitter; received: Buffer[]; gate: ReturnType<typeof sliceReads> } {
  const socket = new PassThrough();
  const received: Buffer[] = [];
  const webSocket = new EventEmitter();
  // Stands in for ws's own listener, which a stop must be able to cut off mid-read.
  socket.on('data', function (this: PassThrough, chunk: Buffer) {
    assert.equal(this, socket, 'the parser is called on the socket, as ws expects');
    received.push(chunk);
    if (Buffer.concat(received).includes('STOP')) gate.stop();
  });
  const gate = sliceReads(socket, webSocket);
  return { socket, webSocket, received, gate };
}

test('a read reaches the parser in slices, in order, without a copy', () => {
  const { socket, received } = setup();
  const chunk = Buffer.alloc(READ_SLICE_BYTES * 2 + 100, 7);
  socket.write(chunk);
  assert.deepEqual(received.map((b) => b.length), [READ_SLICE_BYTES, READ_SLICE_BYTES, 100]);
  assert.deepEqual(Buffer.concat(received), chunk);
  assert.equal(received[0]?.buffer, chunk.buffer);
});

test('after a stop the rest of the read and every later read are discarded', () => {
  const { socket, received } = setup();
  const chunk = Buffer.alloc(READ_SLICE_BYTES * 4, 'x');
  chunk.write('STOP', READ_SLICE_BYTES + 10);
  socket.write(chunk);
  assert.equal(received.length, 2, 'the slice holding STOP was the last one parsed');
  assert.ok(socket.isPaused(), 'nothing more is read');
  assert.ok(socket.writableEnded, 'the peer is told with a FIN after what was already written');
  socket.resume();
  socket.emit('data', Buffer.from('later'));
  assert.equal(received.length, 2);
});

test('an error from ws (it stopped its own parser) stops the feed', () => {
  const { socket, webSocket, received } = setup();
  webSocket.emit('error', new Error('frame error'));
  socket.write(Buffer.from('more'));
  assert.equal(received.length, 0);
});
