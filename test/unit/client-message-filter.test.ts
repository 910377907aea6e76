import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientMessageFilter } from '../../server/src/protocols/vnc/client-message-filter.js';

const setPixelFormat = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.alloc(16, 1)]);
const fbur = Buffer.from([3, 1, 0, 0, 0, 0, 0, 10, 0, 10]);
const key = Buffer.from([4, 1, 0, 0, 0, 0, 0, 0x61]);
const pointer = Buffer.from([5, 0, 0, 3, 0, 3]);
function setEncodings(encodings: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * encodings.length);
  b.writeUInt8(2, 0);
  b.writeUInt16BE(encodings.length, 2);
  encodings.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
  return b;
}
function cutText(length: number): Buffer {
  const b = Buffer.alloc(8 + Math.abs(length));
  b.writeUInt8(6, 0);
  b.writeInt32BE(length, 4);
  return b;
}
const fence = Buffer.from([248, 0, 0, 0, 0, 0, 0, 1, 2, 0xaa, 0xbb]);
const qemuKey = Buffer.from([255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 30]);
const desktopSize = Buffer.concat([Buffer.from([251, 0, 0, 0, 0, 0, 1, 0]), Buffer.alloc(16)]);

test('view-only: housekeeping passes, every kind of input is dropped, even split across frames', () => {
  let inputs = 0;
  const filter = new ClientMessageFilter({ dropInput: true, onInput: () => inputs++ });
  const stream = Buffer.concat([setPixelFormat, key, fbur, pointer, cutText(5), cutText(-7), fence, qemuKey, desktopSize, fbur]);
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 3) {
    const forwarded = filter.push(stream.subarray(i, i + 3));
    assert.ok(forwarded);
    out.push(forwarded);
  }
  assert.deepEqual(Buffer.concat(out), Buffer.concat([setPixelFormat, fbur, fence, fbur]));
  assert.equal(inputs, 6);
  assert.equal(filter.droppedMessages, 6);
});

test('full control: everything passes unchanged and input is counted for the idle timeout', () => {
  let inputs = 0;
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => inputs++ });
  const stream = Buffer.concat([key, pointer, fbur]);
  assert.deepEqual(filter.push(stream), stream);
  assert.equal(inputs, 2);
});

test('ExtendedMouseButtons is removed from SetEncodings so pointer events stay 6 bytes', () => {
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  assert.deepEqual(filter.push(setEncodings([7, -316, 0, -223])), setEncodings([7, 0, -223]));
  assert.deepEqual(filter.push(setEncodings([0])), setEncodings([0]));
});

test('unknown types and oversized clipboard announcements end the stream', () => {
  const filter = () => new ClientMessageFilter({ dropInput: true, onInput: () => undefined });
  assert.equal(filter().push(Buffer.from([42, 0, 0, 0])), null);
  assert.equal(filter().push(Buffer.from([255, 9, 0, 0])), null);
  const huge = Buffer.alloc(8);
  huge.writeUInt8(6, 0);
  huge.writeInt32BE(-(2 * 1024 * 1024), 4);
  assert.equal(filter().push(huge), null);
});
