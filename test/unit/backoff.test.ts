/** When a page that lost its connection tries again, and when it stops (client/src/session/backoff.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, decideRetry, retryDelayMs } from '../../client/src/session/backoff.js';

const HOLD_MS = 300_000;

test('backoff: 0.5 s doubling to 8 s, then 8 s for every later try', () => {
  assert.deepEqual(
    Array.from({ length: 8 }, (_, failures) => retryDelayMs(failures)),
    [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000],
  );
  assert.equal(retryDelayMs(0), FIRST_RETRY_DELAY_MS);
  assert.equal(retryDelayMs(1_000_000), MAX_RETRY_DELAY_MS, 'no overflow after a very long outage');
  assert.equal(retryDelayMs(-3), FIRST_RETRY_DELAY_MS);
});

test('backoff: retries while the hold lasts, at the backoff delay', () => {
  assert.deepEqual(decideRetry(0, 0, HOLD_MS), { retry: true, delayMs: 500 });
  assert.deepEqual(decideRetry(3, 7_500, HOLD_MS), { retry: true, delayMs: 4_000 });
  assert.deepEqual(decideRetry(40, 250_000, HOLD_MS), { retry: true, delayMs: 8_000 });
});

test('backoff: the last wait ends with the hold, so the last try still comes in time', () => {
  assert.deepEqual(decideRetry(10, HOLD_MS - 3_000, HOLD_MS), { retry: true, delayMs: 3_000 });
  assert.deepEqual(decideRetry(10, HOLD_MS - 1, HOLD_MS), { retry: true, delayMs: 1 });
});

test('backoff: gives up once the hold has surely run out, or when nothing is held', () => {
  assert.deepEqual(decideRetry(10, HOLD_MS, HOLD_MS), { retry: false });
  assert.deepEqual(decideRetry(10, HOLD_MS + 60_000, HOLD_MS), { retry: false });
  assert.deepEqual(decideRetry(0, 0, 0), { retry: false });
});

test('backoff: a clock that went back counts as no time since the drop', () => {
  assert.deepEqual(decideRetry(0, -5_000, HOLD_MS), { retry: true, delayMs: 500 });
});
