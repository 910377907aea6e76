import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { MAX_BYTES_DISCARDED_AFTER_STOP, READ_SLICE_BYTES, sliceReads } from '../../server/src/ws/read-slices.js';

/** A socket: what the peer sends is fed with `socket.emit('data')`; what is written goes nowhere. */
function setup(): { socket: Duplex; webSocket: EventEmitter; received: Buffer[]; gate: ReturnType<typeof sliceReads> } {
  const socket = new Duplex({ read: () => undefined, write: (_chunk, _encoding, callback) => callback() });
  const received: Buffer[] = [];
  const webSocket = new EventEmitter();
  // Stands in for ws's own listener, which a stop must be able to cut off mid-read.
  socket.on('data', function (this: Duplex, chunk: Buffer) {
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
  socket.emit('data', chunk);
  assert.deepEqual(received.map((b) => b.length), [READ_SLICE_BYTES, READ_SLICE_BYTES, 100]);
  assert.deepEqual(Buffer.concat(received), chunk);
  assert.equal(received[0]?.buffer, chunk.buffer);
});

test('after a stop the rest of the read and every later read are discarded', () => {
  const { socket, received } = setup();
  const chunk = Buffer.alloc(READ_SLICE_BYTES * 4, 'x');
  chunk.write('STOP', READ_SLICE_BYTES + 10);
  socket.emit('data', chunk);
  assert.equal(received.length, 2, 'the slice holding STOP was the last one parsed');
  assert.ok(socket.writableEnded, 'the peer is told with a FIN after what was already written');
  socket.emit('data', Buffer.from('later'));
  assert.equal(received.length, 2);
  assert.ok(!socket.isPaused(), 'what a browser had in flight is read and dropped, so closing the socket sends no reset');
});

test('a peer that goes on sending after a stop is no longer read once past its allowance', () => {
  const { socket, received } = setup();
  socket.emit('data', Buffer.from('STOP'));
  socket.emit('data', Buffer.alloc(MAX_BYTES_DISCARDED_AFTER_STOP));
  assert.ok(!socket.isPaused());
  socket.emit('data', Buffer.alloc(1));
  assert.ok(socket.isPaused(), 'a flood is left unread');
  assert.equal(received.length, 1);
});

test('an error from ws (it stopped its own parser) stops the feed', () => {
  const { socket, webSocket, received } = setup();
  webSocket.emit('error', new Error('frame error'));
  socket.emit('data', Buffer.from('more'));
  assert.equal(received.length, 0);
});
