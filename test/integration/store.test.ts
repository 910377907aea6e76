/**
 * One suite, two stores: every behaviour the gateway relies on is checked against the embedded
 * SQLite store and against PostgreSQL (a real cluster started by the harness), so a deployment can
 * move between them without surprises.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppId, BuildId, UserId } from '../../shared/src/ids.js';
import type { BuildRecord, Store } from '../../server/src/store/store.js';
import { SqliteStore } from '../../server/src/store/sqlite/sqlite-store.js';
import { PostgresStore } from '../../server/src/store/postgres/postgres-store.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { postgresOutbox, sqliteOutbox, type OutboxWrite, type WebhookOutbox } from '../../server/src/webhooks/outbox.js';
import { newEventId } from '../../server/src/webhooks/events.js';

const MINUTE_MS = 60_000;

interface Backend {
  readonly name: string;
  /** A fresh, empty store and a way to open a second handle on the same database. */
  fresh(): Promise<{ store: Store; reopen: () => Promise<Store> }>;
  /** The webhook outbox on the store's database. */
  outbox(store: Store): WebhookOutbox;
}

let cluster: PostgresCluster;
const sqliteDirs: string[] = [];

const backends: Backend[] = [
  {
    name: 'sqlite',
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'porthole-store-'));
      sqliteDirs.push(dir);
      const path = join(dir, 'porthole.db');
      return { store: SqliteStore.open(path), reopen: async () => SqliteStore.open(path) };
    },
    outbox: (store) => sqliteOutbox((store as SqliteStore).database),
  },
  {
    name: 'postgres',
    async fresh() {
      const url = await cluster.createDatabase();
      return { store: await PostgresStore.open(url), reopen: () => PostgresStore.open(url) };
    },
    outbox: (store) => postgresOutbox((store as PostgresStore).pool),
  },
];

before(async () => {
  cluster = await startPostgres();
});

after(async () => {
  await cluster.stop();
  for (const dir of sqliteDirs) rmSync(dir, { recursive: true, force: true });
});

const uid = (id: string): UserId => id as UserId;
const aid = (id: string): AppId => id as AppId;
const bid = (id: string): BuildId => id as BuildId;

function build(id: string, overrides: Partial<BuildRecord> = {}): BuildRecord {
  return {
    id: bid(id),
    appId: aid('app-1'),
    stack: 'linux',
    status: 'running',
    startedAt: new Date('2030-01-01T10:00:00.000Z'),
    finishedAt: null,
    triggeredBy: 'ci',
    closesAt: null,
    ssh: { host: '127.0.0.1', port: 22, username: 'vagrant', sealedPassword: 'sealed-pw', sealedPrivateKey: null, hostKey: null, pinnedHostKey: null },
    vnc: null,
    extensions: null,
    extendedMs: 0,
    ...overrides,
  };
}

for (const backend of backends) {
  describe(`store (${backend.name})`, () => {
    async function withStore(run: (store: Store, reopen: () => Promise<Store>) => Promise<void>): Promise<void> {
      const { store, reopen } = await backend.fresh();
      try {
        await run(store, reopen);
      } finally {
        await store.close();
      }
    }

    test('users: created then updated; password hash and OIDC subject kept unless given; email case-insensitive', () =>
      withStore(async (store) => {
        const created = await store.upsertUser({ id: uid('u1'), email: 'Ada@Example.test', name: 'Ada', passwordHash: 'hash-1', oidcSubject: 'sub-1' });
        assert.equal(created.created, true);
        const { sessionEpoch } = created.record;
        assert.deepEqual(created.record, { id: 'u1', email: 'Ada@Example.test', name: 'Ada', passwordHash: 'hash-1', oidcSubject: 'sub-1', sessionEpoch });
        const updated = await store.upsertUser({ id: uid('u1'), email: 'ada@example.test', name: null });
        assert.equal(updated.created, false);
        assert.deepEqual(updated.record, { id: 'u1', email: 'ada@example.test', name: null, passwordHash: 'hash-1', oidcSubject: 'sub-1', sessionEpoch });
        assert.equal((await store.getUserByEmail(' ADA@example.TEST '))?.id, 'u1');
        assert.equal((await store.getUserByOidcSubject('sub-1'))?.id, 'u1');
        assert.equal(await store.getUserByOidcSubject('sub-2'), null);
        const cleared = await store.upsertUser({ id: uid('u1'), email: 'ada@example.test', name: 'Ada', passwordHash: null, oidcSubject: null });
        assert.equal(cleared.record.passwordHash, null);
        assert.equal(cleared.record.oidcSubject, null);
        assert.equal(await store.getUserByOidcSubject('sub-1'), null);
        assert.equal(await store.getUser(uid('nobody')), null);
      }));

    test('users: an OIDC subject and an email belong to one user only', () =>
      withStore(async (store) => {
        await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: null, oidcSubject: 'same' });
        await assert.rejects(store.upsertUser({ id: uid('u2'), email: 'b@example.test', name: null, oidcSubject: 'same' }));
        await assert.rejects(store.upsertUser({ id: uid('u3'), email: 'A@example.test', name: null }));
      }));

    test('apps and memberships; deleting a user removes their memberships', () =>
      withStore(async (store) => {
        assert.equal((await store.upsertApp({ id: aid('app-1'), name: 'One' })).created, true);
        assert.equal((await store.upsertApp({ id: aid('app-1'), name: 'Uno' })).created, false);
        assert.deepEqual(await store.getApp(aid('app-1')), { id: 'app-1', name: 'Uno', recordSessions: false });
        assert.equal((await store.upsertApp({ id: aid('app-1'), name: 'Uno', recordSessions: true })).record.recordSessions, true);
        assert.equal((await store.upsertApp({ id: aid('app-1'), name: 'Uno' })).record.recordSessions, true, 'kept unless given');
        await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: null });
        assert.equal((await store.putMembership({ appId: aid('app-1'), userId: uid('u1'), role: 'developer' })).created, true);
        assert.equal((await store.putMembership({ appId: aid('app-1'), userId: uid('u1'), role: 'tester' })).created, false);
        assert.equal(await store.getRole(aid('app-1'), uid('u1')), 'tester');
        assert.equal(await store.deleteMembership(aid('app-1'), uid('u1')), true);
        assert.equal(await store.deleteMembership(aid('app-1'), uid('u1')), false);
        await store.putMembership({ appId: aid('app-1'), userId: uid('u1'), role: 'owner' });
        assert.equal(await store.deleteUser(uid('u1')), true);
        assert.equal(await store.deleteUser(uid('u1')), false);
        assert.equal(await store.getRole(aid('app-1'), uid('u1')), null);
      }));

    test('builds: a window only ever narrows; pinned host keys survive re-registration to the same host; first pin wins', () =>
      withStore(async (store) => {
        await store.upsertApp({ id: aid('app-1'), name: 'One' });
        const first = await store.upsertBuild(build('b1', { vnc: { host: '127.0.0.1', port: 5901, username: null, sealedPassword: 'sealed-vnc' } }));
        assert.equal(first.created, true);
        assert.deepEqual(first.record.vnc, { host: '127.0.0.1', port: 5901, username: null, sealedPassword: 'sealed-vnc' });
        const t1 = new Date('2030-01-01T11:00:00.000Z');
        const t2 = new Date('2030-01-01T12:00:00.000Z');
        assert.equal((await store.upsertBuild(build('b1', { closesAt: t1 }))).record.closesAt?.getTime(), t1.getTime());
        const widened = await store.upsertBuild(build('b1', { closesAt: t2 }));
        assert.equal(widened.created, false);
        assert.equal(widened.record.closesAt?.getTime(), t1.getTime());
        assert.equal((await store.upsertBuild(build('b1', { closesAt: null }))).record.closesAt?.getTime(), t1.getTime());
        assert.equal(await store.pinHostKey(bid('b1'), 'SHA256:first'), 'SHA256:first');
        assert.equal(await store.pinHostKey(bid('b1'), 'SHA256:second'), 'SHA256:first');
        assert.equal(await store.pinHostKey(bid('nope'), 'SHA256:x'), null);
        assert.equal((await store.upsertBuild(build('b1'))).record.ssh.pinnedHostKey, 'SHA256:first');
        assert.equal((await store.getBuild(bid('b1')))?.ssh.pinnedHostKey, 'SHA256:first');
        assert.equal(await store.getBuild(bid('nope')), null);
        // Another host or port is another VM: its key is pinned afresh on first use.
        const moved = await store.upsertBuild(build('b1', { ssh: { ...build('b1').ssh, port: 2200 } }));
        assert.equal(moved.record.ssh.pinnedHostKey, null);
        assert.equal(await store.pinHostKey(bid('b1'), 'SHA256:new-vm'), 'SHA256:new-vm');
      }));

    test('builds: finish marks finished and narrows; revoke narrows to now; unknown builds are null', () =>
      withStore(async (store) => {
        await store.upsertApp({ id: aid('app-1'), name: 'One' });
        await store.upsertBuild(build('b1'));
        const finishedAt = new Date('2030-01-01T11:00:00.000Z');
        const closesAt = new Date(finishedAt.getTime() + 10 * MINUTE_MS);
        const finished = await store.finishBuild(bid('b1'), finishedAt, closesAt);
        assert.equal(finished?.status, 'finished');
        assert.equal(finished?.finishedAt?.getTime(), finishedAt.getTime());
        assert.equal(finished?.closesAt?.getTime(), closesAt.getTime());
        const later = await store.finishBuild(bid('b1'), new Date(finishedAt.getTime() + MINUTE_MS), new Date(closesAt.getTime() + MINUTE_MS));
        assert.equal(later?.finishedAt?.getTime(), finishedAt.getTime(), 'an earlier finish time is kept');
        assert.equal(later?.closesAt?.getTime(), closesAt.getTime(), 'the window is not widened');
        const revokedAt = new Date(finishedAt.getTime() + MINUTE_MS);
        assert.equal((await store.narrowWindow(bid('b1'), revokedAt))?.closesAt?.getTime(), revokedAt.getTime());
        assert.equal(await store.finishBuild(bid('nope'), finishedAt, closesAt), null);
        assert.equal(await store.narrowWindow(bid('nope'), revokedAt), null);
      }));

    test('extensions: the policy is stored, and extendWindow widens only from the close time it read', () =>
      withStore(async (store) => {
        await store.upsertApp({ id: aid('app-1'), name: 'One' });
        const finishedAt = new Date('2030-01-01T11:00:00.000Z');
        const closesAt = new Date(finishedAt.getTime() + 10 * MINUTE_MS);
        const policy = { stepMinutes: 15, maxMinutes: 60 };
        const { record } = await store.upsertBuild(build('b1', { status: 'finished', finishedAt, closesAt, extensions: policy }));
        assert.deepEqual([record.extensions, record.extendedMs], [policy, 0]);
        const later = new Date(closesAt.getTime() + 15 * MINUTE_MS);
        assert.equal(await store.extendWindow(bid('b1'), new Date(closesAt.getTime() - 1), later), null, 'a stale read extends nothing');
        const extended = await store.extendWindow(bid('b1'), closesAt, later);
        assert.deepEqual([extended?.closesAt?.getTime(), extended?.extendedMs], [later.getTime(), 15 * MINUTE_MS]);
        assert.equal(await store.extendWindow(bid('b1'), closesAt, new Date(later.getTime() + MINUTE_MS)), null, 'a second click on the old close time loses');
        // A replayed registration keeps the extension it knows nothing about, and may clear the policy.
        const replay = await store.upsertBuild(build('b1', { status: 'finished', finishedAt, closesAt: later, extensions: null }));
        assert.deepEqual([replay.record.closesAt?.getTime(), replay.record.extendedMs, replay.record.extensions], [later.getTime(), 15 * MINUTE_MS, null]);
        assert.equal(await store.extendWindow(bid('nope'), closesAt, later), null);
      }));

    test('window changes write their webhook events in the same transaction: a failed change has none, a committed one has its own', () =>
      withStore(async (store) => {
        await store.upsertApp({ id: aid('app-1'), name: 'One' });
        const finishedAt = new Date('2030-01-01T11:00:00.000Z');
        const closesAt = new Date(finishedAt.getTime() + 10 * MINUTE_MS);
        const later = new Date(closesAt.getTime() + 15 * MINUTE_MS);
        await store.upsertBuild(build('b1', { status: 'finished', finishedAt, closesAt, extensions: { stepMinutes: 15, maxMinutes: 60 } }));
        const outbox = backend.outbox(store);
        const write = (type: 'build.extended' | 'build.released', buildId: string | null = 'b1'): OutboxWrite => ({
          endpoints: ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'],
          now: closesAt,
          events: (changed) => {
            const base = { id: newEventId(), timestamp: closesAt.toISOString(), build: { id: buildId as string }, app: { id: changed.appId }, user: { id: 'u1' } };
            return [
              type === 'build.extended'
                ? { ...base, type, data: { closesAt: changed.closesAt?.toISOString() ?? '', by: { id: 'u1' } } }
                : { ...base, type, data: { by: { id: 'u1' } } },
            ];
          },
        });
        const pending = async () => (await outbox.claim('n', new Date('2031-01-01T00:00:00.000Z'), 1, 100)).map((r) => [r.type, r.endpoint]);

        // The event cannot be written (a row the outbox's NOT NULL refuses), or not even built: the close time stays.
        await assert.rejects(store.extendWindow(bid('b1'), closesAt, later, write('build.extended', null)));
        await assert.rejects(
          store.narrowWindow(bid('b1'), finishedAt, { ...write('build.released'), events: () => { throw new Error('no event'); } }),
        );
        assert.equal((await store.getBuild(bid('b1')))?.closesAt?.getTime(), closesAt.getTime(), 'both changes rolled back');
        assert.deepEqual(await pending(), []);

        // Nothing changed (a stale close time, an unknown build): nothing sent.
        assert.equal(await store.extendWindow(bid('b1'), later, new Date(later.getTime() + MINUTE_MS), write('build.extended')), null);
        assert.equal(await store.narrowWindow(bid('nope'), finishedAt, write('build.released')), null);
        assert.deepEqual(await pending(), []);

        // Committed: the row per endpoint is there, built from the build as changed.
        assert.equal((await store.extendWindow(bid('b1'), closesAt, later, write('build.extended')))?.closesAt?.getTime(), later.getTime());
        const rows = await outbox.claim('n', new Date('2031-01-01T00:00:00.000Z'), 1, 100);
        assert.deepEqual(rows.map((r) => [r.type, r.endpoint]), [['build.extended', 'http://127.0.0.1:9/a'], ['build.extended', 'http://127.0.0.1:9/b']]);
        assert.equal((JSON.parse(rows[0]?.payload ?? '{}') as { data: { closesAt: string } }).data.closesAt, later.toISOString());
      }));

    test('builds are listed for members only, newest first, with app name and role', () =>
      withStore(async (store) => {
        await store.upsertApp({ id: aid('app-1'), name: 'One' });
        await store.upsertApp({ id: aid('app-2'), name: 'Two' });
        await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: null });
        await store.putMembership({ appId: aid('app-1'), userId: uid('u1'), role: 'admin' });
        await store.upsertBuild(build('old', { startedAt: new Date('2030-01-01T08:00:00.000Z') }));
        await store.upsertBuild(build('new', { startedAt: new Date('2030-01-01T09:00:00.000Z') }));
        await store.upsertBuild(build('other', { appId: aid('app-2') }));
        const listed = await store.listBuildsForUser(uid('u1'));
        assert.deepEqual(
          listed.map((l) => [l.build.id, l.appName, l.role]),
          [
            ['new', 'One', 'admin'],
            ['old', 'One', 'admin'],
          ],
        );
      }));

    test('users: a session epoch of their own, kept unless given; a user registered again gets a new one', () =>
      withStore(async (store) => {
        const first = (await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: null })).record.sessionEpoch;
        const other = (await store.upsertUser({ id: uid('u2'), email: 'b@example.test', name: null })).record.sessionEpoch;
        assert.ok(first.length >= 16);
        assert.notEqual(first, other);
        assert.equal((await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: 'A', passwordHash: 'h' })).record.sessionEpoch, first);
        assert.equal((await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: 'A', sessionEpoch: 'rolled' })).record.sessionEpoch, 'rolled');
        assert.equal((await store.getUser(uid('u1')))?.sessionEpoch, 'rolled');
        await store.deleteUser(uid('u1'));
        const again = (await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: null })).record.sessionEpoch;
        assert.ok(again !== first && again !== 'rolled');
      }));

    test('login sessions: per user, newest kept, live by sign-in id, gone with the user', () =>
      withStore(async (store) => {
        const soon = new Date(Date.now() + MINUTE_MS);
        await store.upsertUser({ id: uid('u1'), email: 'a@example.test', name: null });
        for (const n of [1, 2, 3]) await store.setSession(`u1-s${n}`, { data: '{}', expiresAt: soon, userId: uid('u1'), signInId: `si-${n}` });
        await store.setSession('anonymous', { data: '{}', expiresAt: soon, userId: null, signInId: 'si-anon' });
        await store.setSession('u2-s1', { data: '{}', expiresAt: soon, userId: uid('u2'), signInId: 'si-u2' });
        assert.equal(await store.isSignInLive('si-1', uid('u1'), new Date()), true);
        assert.equal(await store.isSignInLive('si-1', uid('u2'), new Date()), false, 'another user');
        assert.equal(await store.isSignInLive('si-1', uid('u1'), new Date(soon.getTime() + 1)), false, 'expired');
        assert.equal(await store.isSignInLive('si-anon', uid('u1'), new Date()), false, 'not signed in');
        assert.deepEqual(await store.trimUserSessions(uid('u1'), 2), ['si-1'], 'the oldest goes');
        // Rewriting a session keeps its age.
        await store.setSession('u1-s2', { data: '{"again":true}', expiresAt: soon, userId: uid('u1'), signInId: 'si-2' });
        assert.deepEqual(await store.trimUserSessions(uid('u1'), 1), ['si-2']);
        assert.equal(await store.destroyUserSessions(uid('u2')), 1);
        assert.equal(await store.deleteUser(uid('u1')), true);
        assert.equal(await store.getSession('u1-s3'), null, 'sessions go with their user');
        assert.notEqual(await store.getSession('anonymous'), null);
      }));

    test('login sessions: set, touch, read, destroy, prune', () =>
      withStore(async (store) => {
        const soon = new Date(Date.now() + MINUTE_MS);
        const later = new Date(Date.now() + 2 * MINUTE_MS);
        await store.setSession('s1', { data: '{"a":1}', expiresAt: soon, userId: null, signInId: 'si-1' });
        await store.setSession('s1', { data: '{"a":2}', expiresAt: soon, userId: uid('u1'), signInId: 'si-1' });
        await store.touchSession('s1', later);
        assert.deepEqual(await store.getSession('s1'), { data: '{"a":2}', expiresAt: later, userId: 'u1', signInId: 'si-1' });
        await store.setSession('s2', { data: '{}', expiresAt: new Date(Date.now() - 1), userId: null, signInId: 'si-2' });
        assert.equal(await store.pruneSessions(new Date()), 1);
        await store.destroySession('s1');
        assert.equal(await store.getSession('s1'), null);
      }));

    test('audit trail: appended, filtered, newest first, paged by id', () =>
      withStore(async (store) => {
        const t0 = new Date('2030-01-01T10:00:00.000Z');
        // Written in two batches, as the trail writes one per event-loop turn: ids follow the order.
        const entries = [0, 1, 2, 3, 4].map((i) => ({
          at: new Date(t0.getTime() + i * MINUTE_MS),
          event: i % 2 === 0 ? 'connection_opened' : 'login_succeeded',
          userId: uid(i < 3 ? 'u1' : 'u2'),
          buildId: i % 2 === 0 ? bid('b1') : null,
          details: { n: i, ok: true, note: null },
        }));
        await store.appendAudit(entries.slice(0, 3));
        await store.appendAudit(entries.slice(3));
        await store.appendAudit([]);
        const all = await store.listAudit({ limit: 10 });
        assert.deepEqual(all.map((r) => r.details['n']), [4, 3, 2, 1, 0]);
        assert.deepEqual(all[0]?.details, { n: 4, ok: true, note: null });
        assert.equal(all[0]?.at.getTime(), t0.getTime() + 4 * MINUTE_MS);
        assert.deepEqual((await store.listAudit({ buildId: bid('b1'), limit: 10 })).map((r) => r.details['n']), [4, 2, 0]);
        assert.deepEqual((await store.listAudit({ userId: uid('u1'), limit: 2 })).map((r) => r.details['n']), [2, 1]);
        assert.deepEqual((await store.listAudit({ since: new Date(t0.getTime() + 3 * MINUTE_MS), limit: 10 })).map((r) => r.details['n']), [4, 3]);
        const page = await store.listAudit({ beforeId: all[1]?.id ?? 0, limit: 2 });
        assert.deepEqual(page.map((r) => r.details['n']), [2, 1]);
        // Retention (PORTHOLE_AUDIT_RETENTION_DAYS): rows from before the cutoff go, the cutoff itself stays.
        assert.equal(await store.pruneAudit(new Date(t0.getTime() + 2 * MINUTE_MS)), 2);
        assert.deepEqual((await store.listAudit({ limit: 10 })).map((r) => r.details['n']), [4, 3, 2]);
        assert.equal(await store.pruneAudit(t0), 0);
      }));

    test('recordings: added, finished, listed newest first, pruned by start time', () =>
      withStore(async (store) => {
        const t0 = new Date('2030-01-01T10:00:00.000Z');
        const rec = (id: string, minutes: number) => ({ id: id as never, buildId: bid('b1'), appId: aid('app-1'), userId: uid('u1'), connectionId: `c-${id}`, startedAt: new Date(t0.getTime() + minutes * MINUTE_MS) });
        await store.addRecording(rec('r1', 0));
        await store.addRecording(rec('r2', 5));
        await store.finishRecording('r1' as never, new Date(t0.getTime() + MINUTE_MS), 1234, 5);
        const r1 = await store.getRecording('r1' as never);
        assert.deepEqual(r1 && { ...r1, startedAt: r1.startedAt.getTime(), endedAt: r1.endedAt?.getTime() }, {
          id: 'r1', buildId: 'b1', appId: 'app-1', userId: 'u1', connectionId: 'c-r1', startedAt: t0.getTime(), endedAt: t0.getTime() + MINUTE_MS, sizeBytes: 1234, droppedBytes: 5,
        });
        assert.deepEqual((await store.listRecordings(bid('b1'))).map((r) => r.id), ['r2', 'r1']);
        assert.deepEqual((await store.pruneRecordings(new Date(t0.getTime() + MINUTE_MS))).map((r) => r.id), ['r1']);
        assert.equal(await store.getRecording('r1' as never), null);
        await store.ping();
      }));

    test('migrations run once: reopening keeps the data', () =>
      withStore(async (store, reopen) => {
        await store.upsertApp({ id: aid('app-1'), name: 'One' });
        const again = await reopen();
        try {
          assert.deepEqual(await again.getApp(aid('app-1')), { id: 'app-1', name: 'One', recordSessions: false });
        } finally {
          await again.close();
        }
      }));
  });
}
