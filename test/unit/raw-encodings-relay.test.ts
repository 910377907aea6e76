/** The Raw leg's rewriting of the page's SetEncodings (bench/lib/raw-encodings-relay.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientStreamRewriter, rawOnlySetEncodings, VNCAUTH_HANDSHAKE_BYTES } from '../../bench/lib/raw-encodings-relay.js';

function setEncodings(encodings: readonly number[]): Buffer {
  const message = Buffer.alloc(4 + 4 * encodings.length);
  message.writeUInt8(2, 0);
  message.writeUInt16BE(encodings.length, 2);
  encodings.forEach((e, i) => message.writeInt32BE(e, 4 + 4 * i));
  return message;
}

function encodingsOf(message: Buffer): number[] {
  const out: number[] = [];
  for (let offset = 4; offset < message.length; offset += 4) out.push(message.readInt32BE(offset));
  return out;
}

/** noVNC 1.7's list with Balanced: Tight, ZRLE, Hextile, Raw, CopyRect, quality 6, compression 2, then pseudo-encodings. */
const NOVNC_BALANCED = [7, 16, 5, 0, 1, -26, -254, -223, -224, -239, -308, -309, -312, -313];

test('a SetEncodings keeps Raw and the pseudo-encodings, and nothing else', () => {
  const out = rawOnlySetEncodings(setEncodings(NOVNC_BALANCED));
  assert.equal(out.readUInt8(0), 2);
  assert.equal(out.readUInt16BE(2), 10);
  assert.deepEqual(encodingsOf(out), [0, -26, -254, -223, -224, -239, -308, -309, -312, -313]);
});

test('the handshake passes untouched, and a SetEncodings split across reads is rewritten whole', () => {
  const stream = new ClientStreamRewriter(VNCAUTH_HANDSHAKE_BYTES);
  const handshake = Buffer.alloc(VNCAUTH_HANDSHAKE_BYTES, 0x02);
  const request = Buffer.from([3, 1, 0, 0, 0, 0, 5, 0, 3, 32]);
  const encodings = setEncodings(NOVNC_BALANCED);
  const whole = Buffer.concat([handshake, encodings, request]);
  const cut = VNCAUTH_HANDSHAKE_BYTES + 7;
  const first = stream.push(whole.subarray(0, cut), rawOnlySetEncodings);
  assert.deepEqual(first, handshake, 'the incomplete SetEncodings waits');
  const second = stream.push(whole.subarray(cut), rawOnlySetEncodings);
  assert.deepEqual(second, Buffer.concat([rawOnlySetEncodings(encodings), request]));
});

test('without a rewrite every message passes as it came', () => {
  const stream = new ClientStreamRewriter(0);
  const messages = Buffer.concat([setEncodings(NOVNC_BALANCED), Buffer.from([5, 0, 0, 10, 0, 20])]);
  assert.deepEqual(stream.push(messages, null), messages);
});

test('a message type the gateway would not forward stops the relay', () => {
  const stream = new ClientStreamRewriter(0);
  assert.throws(() => stream.push(Buffer.from([99, 0, 0, 0]), null), /unknown RFB client message type 99/);
});
