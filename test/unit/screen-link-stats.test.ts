import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLink, LinkMeter } from '../../client/src/screen/link-stats.js';

test('each sample is the rate since the one before', () => {
  const meter = new LinkMeter(1000);
  for (let i = 0; i < 10; i += 1) meter.frame();
  meter.received(3000);
  meter.received(1000);
  assert.deepEqual(meter.sample(3000), { framesPerSecond: 5, bytesPerSecond: 2000 });
  assert.deepEqual(meter.sample(4000), { framesPerSecond: 0, bytesPerSecond: 0 }, 'nothing since');
  assert.deepEqual(meter.sample(4000), { framesPerSecond: 0, bytesPerSecond: 0 }, 'no time passed: no division by zero');
});

test('the readout: whole frames, bytes in B, KB or MB per second, and the round trip once known', () => {
  assert.equal(describeLink({ framesPerSecond: 0, bytesPerSecond: 0 }, null), '0 fps · 0 B/s');
  assert.equal(describeLink({ framesPerSecond: 12.4, bytesPerSecond: 512 }, 35.6), '12 fps · 512 B/s · 36 ms');
  assert.equal(describeLink({ framesPerSecond: 30, bytesPerSecond: 340 * 1024 }, 4), '30 fps · 340 KB/s · 4 ms');
  assert.equal(describeLink({ framesPerSecond: 60, bytesPerSecond: 2.5 * 1024 * 1024 }, 150), '60 fps · 2.5 MB/s · 150 ms');
});
