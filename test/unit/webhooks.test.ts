/**
 * Webhooks (issue #20): the retry schedule, the first-attach/last-detach decider, the settings, and
 * the outbox's claims (order per build, leases, settling) on a real SQLite database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FIRST_RETRY_DELAY_MS, GIVE_UP_AFTER_MS, MAX_RETRY_DELAY_MS, afterFailure, nextAttemptDelay } from '../../server/src/webhooks/backoff.js';
import { attachmentChange, createWebhookEmitter, type WebhookEmitter } from '../../server/src/webhooks/emitter.js';
import { newEventId, webhookEventSchema, WEBHOOK_EVENT_TYPES, type WebhookEvent } from '../../server/src/webhooks/events.js';
import { sqliteOutbox, writeOutboxRowsSqlite, type DeliveryAttempt, type OutboxRow, type WebhookOutbox } from '../../server/src/webhooks/outbox.js';
import { createLogger } from '../../server/src/log.js';
import type { GatewayEvent } from '../../server/src/audit/events.js';
import type { AppId, BuildId, UserId } from '../../shared/src/ids.js';
import { SqliteStore } from '../../server/src/store/sqlite/sqlite-store.js';
import { windowChanges } from '../../server/src/webhooks/window-changes.js';
import { loadConfig } from '../../server/src/config/config.js';

const VALID = { PORTHOLE_SESSION_SECRET: 's'.repeat(32), PORTHOLE_SECRET_KEY: 'ab'.repeat(32) };
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const T0 = new Date('2026-12-03T10:00:00.000Z');
const LEASE_MS = 30_000;
const ENDPOINT = 'http://127.0.0.1:9/hook';

test('webhooks backoff: 1 s doubling to 10 minutes, never beyond', () => {
  assert.deepEqual(
    Array.from({ length: 12 }, (_, i) => nextAttemptDelay(i + 1)),
    [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 600_000, 600_000],
  );
  assert.equal(nextAttemptDelay(0), FIRST_RETRY_DELAY_MS);
  assert.equal(nextAttemptDelay(10_000), MAX_RETRY_DELAY_MS, 'no overflow after a day of failures');
});

test('webhooks backoff: retries within 24 hours of the event, then gives up', () => {
  assert.deepEqual(afterFailure(T0, 1, T0), { kind: 'retry', at: new Date(T0.getTime() + 1_000) });
  const late = new Date(T0.getTime() + GIVE_UP_AFTER_MS - MAX_RETRY_DELAY_MS);
  assert.deepEqual(afterFailure(T0, 50, late), { kind: 'retry', at: new Date(T0.getTime() + GIVE_UP_AFTER_MS) });
  assert.deepEqual(afterFailure(T0, 50, new Date(late.getTime() + 1)), { kind: 'give_up' });
});

test('webhooks attachment: first on, last off, and nothing while another node holds one', () => {
  assert.equal(attachmentChange(0, 1, false), 'attached');
  assert.equal(attachmentChange(1, 2, false), null);
  assert.equal(attachmentChange(2, 1, false), null);
  assert.equal(attachmentChange(1, 0, false), 'detached');
  assert.equal(attachmentChange(0, 1, true), null);
  assert.equal(attachmentChange(1, 0, true), null);
});

test('webhooks events: every type has a schema, and ids are unique msg_ ids', () => {
  assert.deepEqual([...WEBHOOK_EVENT_TYPES].sort(), ['access.refused', 'build.attached', 'build.detached', 'build.extended', 'build.released', 'session.closed', 'session.opened']);
  const ids = new Set(Array.from({ length: 1000 }, () => newEventId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^msg_[0-9a-f]{32}$/);
  assert.ok(webhookEventSchema.safeParse(event('b1', 'build.detached')).success);
});

test('webhooks config: URL needs a secret in whsec_ form; plain http off-host is warned about', () => {
  const missing = loadConfig({ ...VALID, PORTHOLE_WEBHOOK_URL: 'https://ci.example.com/hook' });
  assert.ok(!missing.ok && /PORTHOLE_WEBHOOK_SECRET is required/.test(missing.error));
  const malformed = loadConfig({ ...VALID, PORTHOLE_WEBHOOK_URL: 'https://ci.example.com/hook', PORTHOLE_WEBHOOK_SECRET: 'hunter2' });
  assert.ok(!malformed.ok && /PORTHOLE_WEBHOOK_SECRET must be whsec_/.test(malformed.error));
  const short = loadConfig({ ...VALID, PORTHOLE_WEBHOOK_URL: 'https://ci.example.com/hook', PORTHOLE_WEBHOOK_SECRET: `whsec_${randomBytes(8).toString('base64')}` });
  assert.ok(!short.ok);
  const badUrl = loadConfig({ ...VALID, PORTHOLE_WEBHOOK_URL: 'ftp://ci.example.com/hook', PORTHOLE_WEBHOOK_SECRET: SECRET });
  assert.ok(!badUrl.ok && /PORTHOLE_WEBHOOK_URL/.test(badUrl.error));

  const ok = loadConfig({ ...VALID, PORTHOLE_WEBHOOK_URL: 'https://ci.example.com/hook, http://10.0.0.9:8000/events', PORTHOLE_WEBHOOK_SECRET: SECRET });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value.config.webhooks?.endpoints, ['https://ci.example.com/hook', 'http://10.0.0.9:8000/events']);
  assert.ok(ok.value.warnings.some((w) => w.includes('http://10.0.0.9:8000') && w.includes('plain http')));

  const loopback = loadConfig({ ...VALID, PORTHOLE_WEBHOOK_URL: 'http://127.0.0.1:8000/hook', PORTHOLE_WEBHOOK_SECRET: SECRET });
  assert.ok(loopback.ok && !loopback.value.warnings.some((w) => w.includes('PORTHOLE_WEBHOOK_URL')));
  const none = loadConfig(VALID);
  assert.ok(none.ok && none.value.config.webhooks === null);
});

function event(buildId: string, type: 'build.detached' | 'build.attached'): WebhookEvent {
  const base = { id: newEventId(), timestamp: T0.toISOString(), build: { id: buildId }, app: { id: 'app' }, user: null };
  return type === 'build.detached' ? { ...base, type, data: { idleSince: T0.toISOString() } } : { ...base, type, user: { id: 'u' }, data: { connectionId: 'c' } };
}

function attempt(row: OutboxRow, outcome: DeliveryAttempt['outcome'], at: Date): DeliveryAttempt {
  return { at, eventId: row.eventId, endpoint: row.endpoint, type: row.type, buildId: row.buildId, attempt: row.attempts + 1, outcome, statusCode: outcome === 'delivered' ? 204 : 500, error: null, durationMs: 3 };
}

test('webhooks outbox: only the oldest pending event of a build is claimable; builds go in parallel', async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const outbox = sqliteOutbox(store.database);
  const [a1, a2, b1] = [event('A', 'build.attached'), event('A', 'build.detached'), event('B', 'build.attached')];
  assert.equal(await outbox.enqueue([a1, a2, b1], [ENDPOINT], 100, T0), 0);

  const first = await outbox.claim('node-1', T0, LEASE_MS, 10);
  assert.deepEqual(first.map((r) => r.eventId), [a1.id, b1.id], "A's second event waits for its first");
  assert.deepEqual(await outbox.claim('node-2', T0, LEASE_MS, 10), [], 'claimed rows are leased to node-1');

  // a1 fails: it stays first in line, due in 1 s; a2 still waits behind it.
  const [rowA1, rowB1] = first as [OutboxRow, OutboxRow];
  await outbox.settle(rowA1, 'node-1', afterFailure(rowA1.createdAt, 1, T0), attempt(rowA1, 'failed', T0));
  await outbox.settle(rowB1, 'node-1', { kind: 'delivered' }, attempt(rowB1, 'delivered', T0));
  assert.deepEqual(await outbox.claim('node-1', T0, LEASE_MS, 10), [], 'the retry is not due yet, and a2 is behind it');
  const retried = await outbox.claim('node-2', new Date(T0.getTime() + 1_000), LEASE_MS, 10);
  assert.deepEqual(retried.map((r) => [r.eventId, r.attempts]), [[a1.id, 1]]);
  await outbox.settle(retried[0] as OutboxRow, 'node-2', { kind: 'delivered' }, attempt(retried[0] as OutboxRow, 'delivered', T0));
  const next = await outbox.claim('node-2', new Date(T0.getTime() + 1_000), LEASE_MS, 10);
  assert.deepEqual(next.map((r) => r.eventId), [a2.id], 'then the build next event');

  const attempts = await outbox.listAttempts(10);
  assert.deepEqual(attempts.map((a) => [a.eventId, a.outcome]), [[a1.id, 'delivered'], [b1.id, 'delivered'], [a1.id, 'failed']]);
});

test('webhooks outbox: a lease that ran out is claimed by another node, and the late settle is ignored', async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const outbox = sqliteOutbox(store.database);
  const e = event('A', 'build.attached');
  await outbox.enqueue([e], [ENDPOINT, 'https://second.example/hook'], 100, T0);
  const claimed = await outbox.claim('dead-node', T0, LEASE_MS, 10);
  assert.equal(claimed.length, 2, 'one row per endpoint');
  const later = new Date(T0.getTime() + LEASE_MS);
  const taken = await outbox.claim('node-2', later, LEASE_MS, 10);
  assert.equal(taken.length, 2);
  await outbox.settle(claimed[0] as OutboxRow, 'dead-node', { kind: 'delivered' }, attempt(claimed[0] as OutboxRow, 'delivered', later));
  assert.equal((await outbox.listAttempts(10)).length, 0, "the dead node's late answer is not on record");
  await outbox.settle(taken[0] as OutboxRow, 'node-2', { kind: 'delivered' }, attempt(taken[0] as OutboxRow, 'delivered', later));
  assert.equal((await outbox.listAttempts(10)).length, 1);
});

test('webhooks outbox: gives up rows (the build moves on), bounds pending rows, prunes settled ones', async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const outbox = sqliteOutbox(store.database);
  const [a1, a2] = [event('A', 'build.attached'), event('A', 'build.detached')];
  await outbox.enqueue([a1, a2], [ENDPOINT], 2, T0);
  assert.equal(await outbox.enqueue([event('B', 'build.attached')], [ENDPOINT], 2, T0), 1, 'past the limit, new events are dropped');
  assert.equal(await outbox.attachmentSaidSince('A', T0), true);
  assert.equal(await outbox.attachmentSaidSince('A', new Date(T0.getTime() + 1)), false);
  assert.equal(await outbox.attachmentSaidSince('B', T0), false, "the dropped event was not written");
  const [row] = await outbox.claim('n', T0, LEASE_MS, 10);
  await outbox.settle(row as OutboxRow, 'n', { kind: 'give_up' }, attempt(row as OutboxRow, 'gave_up', T0));
  const next = await outbox.claim('n', T0, LEASE_MS, 10);
  assert.deepEqual(next.map((r) => r.eventId), [a2.id], 'a given-up event no longer holds up its build');
  assert.equal(await outbox.countPending(), 1, 'the given-up row is settled; the other is still to come');
  assert.equal(await outbox.prune(new Date(T0.getTime() + 1)), 1, 'the settled row goes; the pending one stays');
  assert.equal((await outbox.listAttempts(10)).length, 0);
});

function fakeOutbox(limit = Infinity): { outbox: WebhookOutbox; written: WebhookEvent[] } {
  const written: WebhookEvent[] = [];
  const outbox: WebhookOutbox = {
    enqueue: async (events) => {
      if (written.length + events.length > limit) return events.length;
      written.push(...events);
      return 0;
    },
    claim: async () => [],
    settle: async () => undefined,
    attachmentSaidSince: async (buildId, since) =>
      written.some((e) => e.build.id === buildId && (e.type === 'build.attached' || e.type === 'build.detached') && Date.parse(e.timestamp) >= since.getTime()),
    listAttempts: async () => [],
    countPending: async () => written.length,
    prune: async () => 0,
  };
  return { outbox, written };
}

function emitterWith(outbox: WebhookOutbox, dropped: number[] = []): WebhookEmitter {
  return createWebhookEmitter({
    outbox,
    endpoints: [ENDPOINT],
    appOf: async (buildId) => (buildId === 'unknown' ? null : ('app-1' as AppId)),
    othersAttached: async () => false,
    now: () => T0,
    logger: createLogger('silent'),
    onWritten: () => undefined,
    onDropped: (n) => dropped.push(n),
  });
}

const opened = (connectionId: string, buildId = 'b1'): GatewayEvent => ({
  type: 'connection_opened',
  connectionId,
  userId: 'u1' as UserId,
  buildId: buildId as BuildId,
  kind: 'ssh',
  viewOnly: false,
  recorded: false,
});
const closed = (connectionId: string, buildId = 'b1'): GatewayEvent => ({
  type: 'connection_closed',
  connectionId,
  userId: 'u1' as UserId,
  buildId: buildId as BuildId,
  kind: 'ssh',
  closedBy: 'browser',
  closeCode: 1000,
  reason: 'closed by the browser',
  browserCloseCode: 1000,
  bytesToBrowser: 1,
  bytesFromBrowser: 1,
  pauses: 0,
  durationMs: 1234.5,
});
const refused = (buildId: string | null, reason: 'role_forbidden' | 'window_closed'): GatewayEvent => ({
  type: 'ticket_refused',
  stage: 'mint',
  reason,
  userId: 'u9' as UserId,
  buildId: buildId as BuildId | null,
  kind: 'ssh',
  clientAddress: '198.51.100.7',
});

test('webhooks emitter: two overlapping sessions attach once and detach once, in observed order', async () => {
  const { outbox, written } = fakeOutbox();
  const emitter = emitterWith(outbox);
  for (const e of [opened('c1'), opened('c2'), closed('c1'), closed('c2'), opened('c3', 'unknown')]) emitter.observe(e);
  await emitter.close();
  assert.deepEqual(
    written.map((e) => [e.type, 'connectionId' in e.data ? e.data.connectionId : null]),
    [
      ['session.opened', 'c1'],
      ['build.attached', 'c1'],
      ['session.opened', 'c2'],
      ['session.closed', 'c1'],
      ['session.closed', 'c2'],
      ['build.detached', null],
    ],
  );
  for (const e of written) assert.ok(webhookEventSchema.safeParse(e).success, JSON.stringify(e));
  assert.equal(new Set(written.map((e) => e.id)).size, written.length);
  await emitter.close();
});

test('webhooks emitter: refusals become one access.refused per build and reason, with the count', async () => {
  const { outbox, written } = fakeOutbox();
  const emitter = emitterWith(outbox);
  for (let i = 0; i < 500; i++) emitter.observe(refused('b1', 'role_forbidden'));
  emitter.observe(refused('b1', 'window_closed'));
  emitter.observe(refused(null, 'window_closed'));
  emitter.observe(refused('unknown', 'window_closed'));
  await emitter.close();
  assert.deepEqual(
    written.map((e) => [e.type, e.build.id, e.type === 'access.refused' ? [e.data.reason, e.data.count] : null]),
    [
      ['access.refused', 'b1', ['role_forbidden', 500]],
      ['access.refused', 'b1', ['window_closed', 1]],
    ],
  );
});

test('webhooks emitter: a full outbox drops and counts; settled() resolves once what was observed before it is written', async () => {
  const { outbox, written } = fakeOutbox(2);
  const dropped: number[] = [];
  const emitter = emitterWith(outbox, dropped);
  emitter.observe(opened('c1'));
  emitter.observe(closed('c1'));
  await emitter.settled();
  assert.deepEqual(written.map((e) => e.type), ['session.opened', 'build.attached'], 'the first pair written before settled() resolved');
  assert.deepEqual(dropped, [2], 'the second pair found the outbox full');
  await emitter.close();
});

test('webhooks emitter: closing while another node seemed attached, a recheck still sends build.detached', async () => {
  const { outbox, written } = fakeOutbox();
  let othersAttached = true;
  const emitter = createWebhookEmitter({
    outbox,
    endpoints: [ENDPOINT],
    appOf: async () => 'app-1' as AppId,
    othersAttached: async () => othersAttached,
    now: () => T0,
    logger: createLogger('silent'),
    onWritten: () => undefined,
    onDropped: () => undefined,
    detachRecheckMs: 50,
  });
  emitter.observe(opened('c1'));
  emitter.observe(closed('c1'));
  await new Promise((done) => setTimeout(done, 10));
  assert.deepEqual(written.map((e) => e.type), ['session.opened', 'session.closed'], 'the other node was still on it');
  // The other node's connection went at the same moment; its node saw ours and stayed silent too.
  othersAttached = false;
  await new Promise((done) => setTimeout(done, 100));
  assert.deepEqual(written.map((e) => e.type), ['session.opened', 'session.closed', 'build.detached']);
  const detached = written[2];
  assert.ok(detached?.type === 'build.detached' && detached.data.idleSince === T0.toISOString());

  // Attached here again before the recheck: that connection's close decides, not the recheck.
  othersAttached = true;
  emitter.observe(opened('c2'));
  emitter.observe(closed('c2'));
  emitter.observe(opened('c3'));
  await new Promise((done) => setTimeout(done, 10));
  othersAttached = false;
  await new Promise((done) => setTimeout(done, 100));
  await emitter.close();
  assert.deepEqual(written.slice(3).map((e) => e.type), ['session.opened', 'session.closed', 'session.opened']);
});

test('webhooks outbox: rows written inside a store transaction roll back with it', async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const db = store.database;
  const outbox = sqliteOutbox(db);
  const change = db.transaction((fail: boolean) => {
    writeOutboxRowsSqlite(db, [event('A', 'build.attached')], [ENDPOINT], T0);
    if (fail) throw new Error('the change failed');
  });
  assert.throws(() => change(true));
  assert.equal((await outbox.claim('n', T0, LEASE_MS, 10)).length, 0, 'no event for a change that did not happen');
  change(false);
  assert.equal((await outbox.claim('n', T0, LEASE_MS, 10)).length, 1);
});

test("webhooks window changes: Extend and Release commit their event with the change, after the build's earlier events", async (t) => {
  const store = SqliteStore.open(':memory:');
  t.after(() => store.close());
  const outbox = sqliteOutbox(store.database);
  await store.upsertApp({ id: 'app-1' as AppId, name: 'One' });
  const closesAt = new Date(T0.getTime() + 5 * 60_000);
  const later = new Date(closesAt.getTime() + 15 * 60_000);
  await store.upsertBuild({
    id: 'b1' as BuildId,
    appId: 'app-1' as AppId,
    stack: 'linux',
    status: 'finished',
    startedAt: new Date(T0.getTime() - 60 * 60_000),
    finishedAt: new Date(T0.getTime() - 5 * 60_000),
    triggeredBy: null,
    closesAt,
    ssh: { host: '127.0.0.1', port: 22, username: 'u', sealedPassword: 'sealed', sealedPrivateKey: null, hostKey: null, pinnedHostKey: null },
    vnc: null,
    extensions: { stepMinutes: 15, maxMinutes: 60 },
    extendedMs: 0,
  });
  const emitter = emitterWith(outbox);
  let wakes = 0;
  const windows = windowChanges({ store, now: () => T0, webhooks: { endpoints: [ENDPOINT], settled: () => emitter.settled(), written: () => wakes++ } });
  const types = async () => (store.database.prepare('SELECT type FROM webhook_outbox ORDER BY seq').all() as { type: string }[]).map((r) => r.type);

  // Observed just before the click, still on the emitter's chain: it enters the outbox first.
  emitter.observe(opened('c1'));
  const extended = await windows.extend('b1' as BuildId, closesAt, later, 'u1' as UserId);
  assert.equal(extended?.closesAt?.getTime(), later.getTime());
  assert.deepEqual(await types(), ['session.opened', 'build.attached', 'build.extended']);
  const row = store.database.prepare(`SELECT payload FROM webhook_outbox WHERE type = 'build.extended'`).get() as { payload: string };
  const sent = webhookEventSchema.parse(JSON.parse(row.payload));
  assert.deepEqual([sent.app, sent.user, sent.data], [{ id: 'app-1' }, { id: 'u1' }, { closesAt: later.toISOString(), by: { id: 'u1' } }]);
  assert.equal(wakes, 1);

  // A stale close time changes nothing, so it has no event.
  assert.equal(await windows.extend('b1' as BuildId, closesAt, new Date(later.getTime() + 60_000), 'u1' as UserId), null);
  assert.equal(await windows.release('unknown' as BuildId, T0, 'u2' as UserId), null);
  assert.deepEqual(await types(), ['session.opened', 'build.attached', 'build.extended']);
  assert.equal(wakes, 1);

  const released = await windows.release('b1' as BuildId, T0, 'u2' as UserId);
  assert.equal(released?.closesAt?.getTime(), T0.getTime());
  assert.deepEqual(await types(), ['session.opened', 'build.attached', 'build.extended', 'build.released']);
  await emitter.close();
});
