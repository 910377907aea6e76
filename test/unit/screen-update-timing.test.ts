import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpdateTiming } from '../../client/src/screen/update-timing.js';

test('each sample: the updates completed since the last, and the time three in four of them arrived within', () => {
  const timing = new UpdateTiming();
  assert.deepEqual(timing.sample(0), { updates: 0, p75UpdateMs: null }, 'an idle second');
  timing.started(100);
  // noVNC reads an update in pieces as its bytes come in: only the first counts as its start.
  timing.started(150);
  timing.finished(180);
  timing.started(200);
  timing.finished(450);
  assert.deepEqual(timing.sample(1000), { updates: 2, p75UpdateMs: 250 }, 'of two, the slower');
  assert.deepEqual(timing.sample(2000), { updates: 0, p75UpdateMs: null });
  // Seven quick updates and one stall (a busy browser): the stall is not the link.
  for (const [start, end] of [[2000, 2010], [2100, 2120], [2200, 2215], [2300, 2330], [2400, 2410], [2500, 2900], [2910, 2920], [2930, 2945]] as const) {
    timing.started(start);
    timing.finished(end);
  }
  assert.deepEqual(timing.sample(3000), { updates: 8, p75UpdateMs: 20 });
});

test('an update still arriving counts by its age, in every sample until it is in', () => {
  const timing = new UpdateTiming();
  timing.started(500);
  assert.deepEqual(timing.sample(1000), { updates: 0, p75UpdateMs: 500 });
  assert.deepEqual(timing.sample(2000), { updates: 0, p75UpdateMs: 1500 });
  timing.finished(2100);
  assert.deepEqual(timing.sample(3000), { updates: 1, p75UpdateMs: 1600 });
  timing.finished(3100);
  assert.deepEqual(timing.sample(4000), { updates: 0, p75UpdateMs: null }, 'an end without a start is not an update');
});
