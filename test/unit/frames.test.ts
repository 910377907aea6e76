import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeForSocketError, closeReason } from '../../server/src/protocols/frames.js';

const wsError = (code: string): Error => Object.assign(new Error(code), { code });

test('a socket error is recorded with the close ws sent for it', () => {
  assert.deepEqual(closeForSocketError(wsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')), { code: 1009, reason: 'a message was larger than the gateway accepts' });
  assert.deepEqual(closeForSocketError(wsError('WS_ERR_TOO_MANY_BUFFERED_PARTS')), { code: 1008, reason: 'a message was split into too many frames' });
  assert.deepEqual(closeForSocketError(wsError('WS_ERR_INVALID_UTF8')), { code: 1007, reason: 'a text message was not UTF-8' });
  assert.deepEqual(closeForSocketError(wsError('WS_ERR_INVALID_OPCODE')), { code: 1002, reason: 'websocket error' });
  assert.deepEqual(closeForSocketError(null), { code: 1002, reason: 'websocket error' });
});

test("bytes after the browser's own close frame are not a gateway close: the browser's close is recorded", () => {
  assert.equal(closeForSocketError(wsError('ERR_STREAM_WRITE_AFTER_END')), null);
});

test('close reasons are cut to 120 bytes without splitting a character', () => {
  assert.equal(closeReason('short'), 'short');
  const cut = closeReason('é'.repeat(100));
  assert.ok(Buffer.byteLength(cut) <= 120);
  assert.ok(!cut.includes('\uFFFD'));
});
