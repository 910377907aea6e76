import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientMessageFilter, RFB_ASSEMBLY_LIMITS, type FilterResult } from '../../server/src/protocols/vnc/client-message-filter.js';
import { frameAllowance } from '../../server/src/protocols/message-assembly.js';

const T0 = 1_000_000;
function forwarded(result: FilterResult): Buffer {
  assert.ok(result.ok, `refused: ${result.ok ? '' : result.error}`);
  return result.forward;
}
function refusal(result: FilterResult): string | null {
  return result.ok ? null : result.error;
}

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
    out.push(forwarded(filter.push(stream.subarray(i, i + 3), T0)));
  }
  assert.deepEqual(Buffer.concat(out), Buffer.concat([setPixelFormat, fbur, fence, fbur]));
  assert.equal(inputs, 6);
  assert.equal(filter.droppedMessages, 6);
});

test('full control: everything passes unchanged and input is counted for the idle timeout', () => {
  let inputs = 0;
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => inputs++ });
  const stream = Buffer.concat([key, pointer, fbur]);
  assert.deepEqual(forwarded(filter.push(stream, T0)), stream);
  assert.equal(inputs, 2);
});

test('ExtendedMouseButtons is removed from SetEncodings so pointer events stay 6 bytes', () => {
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  assert.deepEqual(forwarded(filter.push(setEncodings([7, -316, 0, -223]), T0)), setEncodings([7, 0, -223]));
  assert.deepEqual(forwarded(filter.push(setEncodings([0]), T0)), setEncodings([0]));
});

test('unknown types and oversized clipboard announcements end the stream', () => {
  const filter = () => new ClientMessageFilter({ dropInput: true, onInput: () => undefined });
  assert.equal(refusal(filter().push(Buffer.from([42, 0, 0, 0]), T0)), 'unknown_message');
  assert.equal(refusal(filter().push(Buffer.from([255, 9, 0, 0]), T0)), 'unknown_message');
  const huge = Buffer.alloc(8);
  huge.writeUInt8(6, 0);
  huge.writeInt32BE(-(2 * 1024 * 1024), 4);
  assert.equal(refusal(filter().push(huge, T0)), 'unknown_message');
});

test('a 1 MiB clipboard in noVNC-sized 10 KiB messages passes whole, a piece at a time', () => {
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  const message = cutText(1024 * 1024 - 8);
  const out: Buffer[] = [];
  for (let i = 0; i < message.length; i += 10 * 1024) out.push(forwarded(filter.push(message.subarray(i, i + 10 * 1024), T0 + i / 1024)));
  assert.deepEqual(Buffer.concat(out), message);
  assert.equal(filter.partialSince, null);
});

test('a message dribbled in more frames than its size allows ends the stream; empty frames count', () => {
  const length = 64 * 1024;
  const allowed = frameAllowance(8 + length, RFB_ASSEMBLY_LIMITS);
  const message = cutText(length);
  const byBytes = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  let frames = 0;
  let result: FilterResult = { ok: true, forward: Buffer.alloc(0) };
  while (result.ok && frames < message.length) result = byBytes.push(message.subarray(frames, ++frames), T0);
  assert.equal(refusal(result), 'too_many_frames');
  assert.equal(frames, allowed + 1);

  const byEmptyFrames = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  forwarded(byEmptyFrames.push(message.subarray(0, 8), T0));
  for (let i = 1; i < allowed; i += 1) forwarded(byEmptyFrames.push(Buffer.alloc(0), T0));
  assert.equal(refusal(byEmptyFrames.push(Buffer.alloc(0), T0)), 'too_many_frames');
});

test('a header dribbled byte by byte is allowed the base frames, then refused', () => {
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  const message = cutText(100);
  for (let i = 0; i < 8; i += 1) forwarded(filter.push(message.subarray(i, i + 1), T0));
  assert.deepEqual(forwarded(filter.push(message.subarray(8), T0)), message);
});

test('a message still incomplete after the time limit is refused; the clock starts at its first byte', () => {
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  const message = cutText(4096);
  forwarded(filter.push(Buffer.concat([key, message.subarray(0, 100)]), T0));
  assert.equal(filter.partialSince, T0);
  assert.equal(filter.check(T0 + RFB_ASSEMBLY_LIMITS.maxMillis), 'ok');
  assert.equal(filter.check(T0 + RFB_ASSEMBLY_LIMITS.maxMillis + 1), 'too_slow');
  assert.equal(refusal(filter.push(message.subarray(100, 200), T0 + RFB_ASSEMBLY_LIMITS.maxMillis + 1)), 'too_slow');

  const completed = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  forwarded(completed.push(message.subarray(0, 100), T0));
  forwarded(completed.push(Buffer.concat([message.subarray(100), pointer.subarray(0, 2)]), T0 + 5));
  assert.equal(completed.partialSince, T0 + 5, 'the next message has its own clock');
});

test('time the gateway held the browser back (VM not draining) does not count against its message', () => {
  const filter = new ClientMessageFilter({ dropInput: false, onInput: () => undefined });
  const message = cutText(4096);
  forwarded(filter.push(message.subarray(0, 100), T0));
  filter.restartClock(T0 + RFB_ASSEMBLY_LIMITS.maxMillis);
  assert.equal(filter.check(T0 + RFB_ASSEMBLY_LIMITS.maxMillis + 5), 'ok');
  assert.deepEqual(forwarded(filter.push(message.subarray(100), T0 + RFB_ASSEMBLY_LIMITS.maxMillis + 6)), message);
});

test('switchable (a screen watcher handed control): input passes while driving and is dropped again once taken back', () => {
  const filter = new ClientMessageFilter({ dropInput: true, onInput: () => undefined });
  assert.equal(filter.dropsInput, true);
  assert.deepEqual(forwarded(filter.push(Buffer.concat([pointer, fbur]), T0)), fbur);
  filter.setDropInput(false);
  assert.equal(filter.dropsInput, false);
  assert.deepEqual(forwarded(filter.push(Buffer.concat([key, pointer, fbur]), T0)), Buffer.concat([key, pointer, fbur]));
  filter.setDropInput(true);
  assert.deepEqual(forwarded(filter.push(Buffer.concat([key, cutText(3), fbur]), T0)), fbur);
  assert.equal(filter.droppedMessages, 3);
});

test('switchable: a message split across the switch is judged under the mode when it completes', () => {
  const filter = new ClientMessageFilter({ dropInput: true, onInput: () => undefined });
  assert.equal(forwarded(filter.push(key.subarray(0, 3), T0)).length, 0);
  filter.setDropInput(false);
  assert.deepEqual(forwarded(filter.push(key.subarray(3), T0)), key);
  // And the other way: half a pointer event while driving, taken back before its end arrives.
  assert.equal(forwarded(filter.push(pointer.subarray(0, 2), T0)).length, 0);
  filter.setDropInput(true);
  assert.equal(forwarded(filter.push(pointer.subarray(2), T0)).length, 0);
  assert.equal(filter.droppedMessages, 1);
});
