import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpdateTiming } from '../../client/src/screen/update-timing.js';

test('each sample: the updates completed since the last, and the slowest of them', () => {
  const timing = new UpdateTiming();
  assert.deepEqual(timing.sample(0), { updates: 0, slowestUpdateMs: null }, 'an idle second');
  timing.started(100);
  // noVNC reads an update in pieces as its bytes come in: only the first counts as its start.
  timing.started(150);
  timing.finished(180);
  timing.started(200);
  timing.finished(450);
  assert.deepEqual(timing.sample(1000), { updates: 2, slowestUpdateMs: 250 });
  assert.deepEqual(timing.sample(2000), { updates: 0, slowestUpdateMs: null });
});

test('an update still arriving counts by its age, in every sample until it is in', () => {
  const timing = new UpdateTiming();
  timing.started(500);
  assert.deepEqual(timing.sample(1000), { updates: 0, slowestUpdateMs: 500 });
  assert.deepEqual(timing.sample(2000), { updates: 0, slowestUpdateMs: 1500 });
  timing.finished(2100);
  assert.deepEqual(timing.sample(3000), { updates: 1, slowestUpdateMs: 1600 });
  timing.finished(3100);
  assert.deepEqual(timing.sample(4000), { updates: 0, slowestUpdateMs: null }, 'an end without a start is not an update');
});
