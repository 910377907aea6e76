/** Counting refusals anyone can repeat into one audit row per source, reason and window. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregationOf, OVERFLOW_ADDRESS, RefusalAggregator, REFUSAL_WINDOW_MS } from '../../server/src/audit/refusal-aggregator.js';
import type { GatewayEvent } from '../../server/src/audit/events.js';
import type { Clock } from '../../server/src/sessions/access-enforcer.js';
import type { AuditEntry } from '../../server/src/store/store.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';

/** Timers that fire only when the test says so. */
class ManualClock implements Clock {
  at = Date.parse('2026-12-01T10:00:00Z');
  readonly timers = new Map<number, () => void>();
  #next = 1;
  now(): number {
    return this.at;
  }
  setTimeout(callback: () => void): NodeJS.Timeout {
    const id = this.#next++;
    this.timers.set(id, callback);
    return id as unknown as NodeJS.Timeout;
  }
  clearTimeout(timer: NodeJS.Timeout): void {
    this.timers.delete(Number(timer));
  }
  setInterval(): NodeJS.Timeout {
    throw new Error('not used');
  }
  clearInterval(): void {}
  fireAll(): void {
    for (const [id, callback] of [...this.timers]) {
      this.timers.delete(id);
      callback();
    }
  }
}

const guessed = (clientAddress: string | null): GatewayEvent => ({ type: 'ticket_refused', stage: 'redeem', reason: 'unknown_or_used', userId: null, buildId: null, kind: 'ssh', clientAddress });

test('which events are counted: anonymous refusals, failed sign-ins and repeats past a cap; the rest are written as they happen', () => {
  assert.ok(aggregationOf(guessed('10.0.0.1')));
  assert.ok(aggregationOf({ type: 'login_failed', email: 'a@example.test', clientAddress: '10.0.0.1' }));
  const byUser = (reason: 'role_forbidden' | 'too_many_user_tickets'): GatewayEvent => ({ type: 'ticket_refused', stage: 'mint', reason, userId: 'u' as UserId, buildId: 'b' as BuildId, kind: 'ssh', clientAddress: null });
  assert.equal(aggregationOf(byUser('role_forbidden')), null, 'a signed-in user refused by policy: one row each, as before');
  assert.ok(aggregationOf(byUser('too_many_user_tickets')), 'a signed-in user hammering a cap is counted too');
  assert.equal(aggregationOf({ type: 'login_succeeded', userId: 'u' as UserId }), null);
  assert.notEqual(aggregationOf(guessed('10.0.0.1'))?.key, aggregationOf(guessed('10.0.0.2'))?.key, 'per client address');
  assert.notEqual(
    aggregationOf({ type: 'login_failed', email: 'a@example.test', clientAddress: '10.0.0.1' })?.key,
    aggregationOf({ type: 'login_failed', email: 'b@example.test', clientAddress: '10.0.0.1' })?.key,
    'failed sign-ins keep the account tried',
  );
});

test('one row per source and window, with the count, written when the window ends', () => {
  const clock = new ManualClock();
  const rows: AuditEntry[] = [];
  const aggregator = new RefusalAggregator({ clock, emit: (entry) => rows.push(entry) });
  const firstAt = clock.at;
  for (let i = 0; i < 1000; i++) {
    assert.equal(aggregator.add(guessed('10.0.0.1')), true);
    clock.at += 10;
  }
  assert.equal(aggregator.add({ type: 'login_succeeded', userId: 'u' as UserId }), false);
  assert.deepEqual(rows, [], 'nothing before the window ends');
  assert.equal(clock.timers.size, 1, 'one timer per open window, not per refusal');
  clock.fireAll();
  assert.deepEqual(rows, [
    {
      at: new Date(firstAt),
      event: 'ticket_refused',
      userId: null,
      buildId: null,
      details: {
        stage: 'redeem',
        reason: 'unknown_or_used',
        kind: 'ssh',
        clientAddress: '10.0.0.1',
        count: 1000,
        windowSeconds: REFUSAL_WINDOW_MS / 1000,
        firstAt: new Date(firstAt).toISOString(),
        lastAt: new Date(firstAt + 999 * 10).toISOString(),
      },
    },
  ]);
  aggregator.add(guessed('10.0.0.1'));
  aggregator.flush();
  assert.equal(rows.length, 2, 'a new window after the last one ended; flush ends it early');
});

test('a flood from many addresses shares one overflow row past the open-window cap', () => {
  const clock = new ManualClock();
  const rows: AuditEntry[] = [];
  const aggregator = new RefusalAggregator({ clock, emit: (entry) => rows.push(entry), maxOpen: 3 });
  for (let i = 0; i < 100; i++) aggregator.add(guessed(`10.0.1.${i}`));
  aggregator.flush();
  assert.deepEqual(
    rows.map((r) => [r.details['clientAddress'], r.details['count']]),
    [['10.0.1.0', 1], ['10.0.1.1', 1], ['10.0.1.2', 1], [OVERFLOW_ADDRESS, 97]],
  );
});
