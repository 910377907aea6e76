/** The bench reads the screen page's link readout back (bench/lib/link-readout.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReadout } from '../../bench/lib/link-readout.js';
import { describeLink } from '../../client/src/screen/link-stats.js';

test('what the page writes reads back as frames and bytes per second', () => {
  assert.deepEqual(parseReadout(describeLink({ framesPerSecond: 12, bytesPerSecond: 340 * 1024 }, 35)), { framesPerSecond: 12, bytesPerSecond: 340 * 1024, roundTripMs: 35 });
  assert.deepEqual(parseReadout(describeLink({ framesPerSecond: 30, bytesPerSecond: 1.5 * 1024 * 1024 }, null)), { framesPerSecond: 30, bytesPerSecond: 1.5 * 1024 * 1024, roundTripMs: null });
  assert.deepEqual(parseReadout(describeLink({ framesPerSecond: 0, bytesPerSecond: 12 }, null)), { framesPerSecond: 0, bytesPerSecond: 12, roundTripMs: null });
});

test('anything else is not a readout', () => {
  assert.equal(parseReadout(''), null);
  assert.equal(parseReadout('connecting…'), null);
});
