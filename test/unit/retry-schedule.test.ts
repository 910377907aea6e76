/** The timer behind a dropped session's retries (client/src/session/retry-schedule.ts), on a fake window. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetrySchedule } from '../../client/src/session/retry-schedule.js';

const HOLD_MS = 300_000;

/** The window the schedule uses: its timers run only when the test says, and it dispatches `online`. */
class FakeWindow extends EventTarget {
  #next = 1;
  readonly timers = new Map<number, { readonly fn: () => void; readonly ms: number }>();

  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.timers.set(id, { fn, ms });
    return id;
  }

  clearTimeout(id: number | undefined): void {
    if (id !== undefined) this.timers.delete(id);
  }

  /** Runs the one pending timer, as if its delay had passed; returns that delay. */
  elapse(): number {
    const [entry] = this.timers;
    assert.ok(entry, 'a retry is scheduled');
    const [id, timer] = entry;
    this.timers.delete(id);
    timer.fn();
    return timer.ms;
  }
}

let fake: FakeWindow;
const globals = globalThis as unknown as { window?: unknown };

beforeEach(() => {
  fake = new FakeWindow();
  globals.window = fake;
});
afterEach(() => {
  delete globals.window;
});

test('retry schedule: the backoff delays, one attempt per timer', () => {
  let attempts = 0;
  const schedule = new RetrySchedule(() => (attempts += 1));
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    assert.equal(schedule.next(HOLD_MS), true);
    assert.equal(fake.timers.size, 1, 'never two attempts pending');
    delays.push(fake.elapse());
  }
  assert.deepEqual(delays, [500, 1_000, 2_000, 4_000, 8_000, 8_000]);
  assert.equal(attempts, 6);
});

test("retry schedule: the browser's online event tries at once, instead of the pending wait", () => {
  let attempts = 0;
  const schedule = new RetrySchedule(() => (attempts += 1));
  for (let i = 0; i < 5; i++) {
    schedule.next(HOLD_MS);
    fake.elapse();
  }
  schedule.next(HOLD_MS);
  assert.equal([...fake.timers.values()][0]?.ms, 8_000, 'a long wait is pending');
  fake.dispatchEvent(new Event('online'));
  assert.equal(attempts, 6, 'tried at once');
  assert.equal(fake.timers.size, 0, 'the pending wait is cancelled, not run as well');
  fake.dispatchEvent(new Event('online'));
  assert.equal(attempts, 6, 'an online event during an attempt leaves it alone');
});

test('retry schedule: stopped, it neither waits nor listens', () => {
  let attempts = 0;
  const schedule = new RetrySchedule(() => (attempts += 1));
  schedule.next(HOLD_MS);
  assert.equal(schedule.active, true);
  schedule.stop();
  assert.equal(schedule.active, false);
  assert.equal(fake.timers.size, 0);
  fake.dispatchEvent(new Event('online'));
  assert.equal(attempts, 0);
  // A new drop starts the backoff again from its first delay.
  schedule.next(HOLD_MS);
  assert.equal(fake.elapse(), 500);
});

test('retry schedule: no hold, no retry', () => {
  const schedule = new RetrySchedule(() => assert.fail('no attempt without a hold'));
  assert.equal(schedule.next(0), false);
  assert.equal(fake.timers.size, 0);
  assert.equal(schedule.active, false);
});
