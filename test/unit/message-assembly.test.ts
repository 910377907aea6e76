import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAssembly, frameAllowance, type AssemblyLimits } from '../../server/src/protocols/message-assembly.js';

const limits: AssemblyLimits = { baseFrames: 4, minAverageFrameBytes: 1000, maxMillis: 500 };

test('the frame allowance grows with the message: a base plus one frame per average-sized piece', () => {
  assert.equal(frameAllowance(0, limits), 4);
  assert.equal(frameAllowance(1, limits), 5);
  assert.equal(frameAllowance(1000, limits), 5);
  assert.equal(frameAllowance(1001, limits), 6);
});

test('more frames than allowed, or longer than the time limit, is refused; the frame count is checked first', () => {
  assert.equal(decideAssembly({ frames: 6, messageBytes: 1001, elapsedMs: 500 }, limits), 'ok');
  assert.equal(decideAssembly({ frames: 7, messageBytes: 1001, elapsedMs: 0 }, limits), 'too_many_frames');
  assert.equal(decideAssembly({ frames: 1, messageBytes: 1001, elapsedMs: 501 }, limits), 'too_slow');
  assert.equal(decideAssembly({ frames: 7, messageBytes: 1001, elapsedMs: 501 }, limits), 'too_many_frames');
});
