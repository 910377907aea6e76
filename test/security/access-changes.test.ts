/**
 * Issue #22, items 3–5: access that changes under live connections, and floods by one caller.
 *   3. A build moved to another app re-checks every live connection (4001 within 1 s for users
 *      without an allowed role there); recordings stay with the app they were made under; a build
 *      re-registered with another VM endpoint ends the sessions to the old VM (4005).
 *   4. One user cannot exhaust the ticket table: outstanding tickets are capped per user.
 *   5. Unauthenticated refusals are aggregated per client address and reason (one row per window
 *      with a count), and the audit trail has a retention period.
 * The build VMs are tarpits (connections stay in set-up, live and cheap) except where a recording
 * needs a real shell.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { WebSocket } from 'ws';
import type { RecordingView } from '../../shared/src/api.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';
import { SSH_SUBPROTOCOL } from '../../shared/src/protocol/ssh-v1.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { startTarpit, type Tarpit } from '../helpers/tarpit.js';
import { startSshd, passwordEndpoint, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, type TerminalClient } from '../helpers/terminal-client.js';
import { attemptUpgrade, ticketProtocols } from '../helpers/upgrade-probe.js';
import { pollUntil } from '../helpers/ports.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { TicketBook, MAX_LIVE_TICKETS, TICKETS_PER_CONNECTION_SLOT } from '../../server/src/connections/tickets.js';
import { PostgresStore } from '../../server/src/store/postgres/postgres-store.js';
import { postgresTokenStores } from '../../server/src/cluster/pg-tickets.js';
import { REFUSAL_WINDOW_MS } from '../../server/src/audit/refusal-aggregator.js';
import { sweepAudit } from '../../server/src/audit/retention.js';
import { SqliteStore } from '../../server/src/store/sqlite/sqlite-store.js';
import { createLogger } from '../../server/src/log.js';

/** The bound for ending affected connections. */
const CLOSE_BOUND_MS = 1_000;
/** Timer and scheduling slack on a loaded 2-core machine, on top of the bound. */
const CLOSE_SLACK_MS = 500;
const RECORDING_WAIT_MS = 15_000;
/** "Over a thousand rows a second from one client": the flood the issue measured. */
const FLOOD_UPGRADES = 1_000;
/** Upgrade attempts in flight at once, like one client script hammering the endpoint. */
const FLOOD_CONCURRENCY = 50;
const MAX_CONNECTIONS_PER_USER = 2;
const DAY_MS = 24 * 60 * 60 * 1000;

const quietLogger = createLogger('silent');

/** The close of `closed`, or null if it did not come within `ms`. */
async function closeWithin(closed: Promise<{ code: number; reason: string }>, ms: number): Promise<{ code: number; reason: string; ms: number } | null> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([closed, new Promise<null>((done) => (timer = setTimeout(() => done(null), ms)))]);
  clearTimeout(timer);
  return outcome === null ? null : { ...outcome, ms: performance.now() - started };
}

function closedOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
}

describe('item 3: a build moved to another app or re-registered with another VM', () => {
  let gw: TestGateway;
  let world: World;
  let tarpitA: Tarpit;
  let tarpitB: Tarpit;
  let sshd: SshdHandle;
  const open: TerminalClient[] = [];

  before(async () => {
    [tarpitA, tarpitB, sshd] = await Promise.all([startTarpit(), startTarpit(), startSshd()]);
    gw = await startGateway({ PORTHOLE_MAX_CONNECTIONS_PER_USER: '20' });
    world = await seedWorld(gw, { ssh: { host: tarpitA.host, port: tarpitA.port, username: 'runner', password: 'tarpit-pw', hostKey: null } });
  });
  after(async () => {
    for (const t of open) t.close();
    await gw.close();
    await Promise.all([tarpitA.close(), tarpitB.close(), sshd.stop()]);
  });

  const startedAt = (): string => new Date(Date.now() - 60_000).toISOString();
  const tarpitSsh = (tarpit: Tarpit, password = 'tarpit-pw'): Record<string, unknown> => ({ host: tarpit.host, port: tarpit.port, username: 'runner', password });

  async function terminal(userAgent: Awaited<ReturnType<typeof signIn>>, buildId: string): Promise<TerminalClient> {
    const t = await connectTerminal(await mintTicket(gw, userAgent, buildId), gw);
    open.push(t);
    return t;
  }

  function live(buildId: string): { userId: string; appId: string; kind: string }[] {
    return gw.enforcer
      .liveConnections()
      .filter((c) => c.buildId === buildId)
      .map((c) => ({ userId: c.userId, appId: c.appId, kind: c.kind }));
  }

  test('moving a build re-checks every live connection: 4001 within 1 s without an allowed role on the new app; the rest follow the new app', async (t) => {
    const api = control(gw);
    await api.put('/builds/moving', { appId: 'app-1', stack: 'linux', status: 'running', startedAt: startedAt(), remoteAccess: { ssh: tarpitSsh(tarpitA) } }).expect(201);
    // The owner of app-1 is a developer on app-2 too; the admin only a tester there; the developer nothing.
    await api.put(`/apps/app-2/members/${world.users.owner.id}`, { role: 'developer' }).expect(201);
    await api.put(`/apps/app-2/members/${world.users.admin.id}`, { role: 'tester' }).expect(201);
    const staying = await terminal(await signIn(gw, world.users.owner), 'moving');
    const tester = await terminal(await signIn(gw, world.users.admin), 'moving');
    const outsider = await terminal(await signIn(gw, world.users.developer), 'moving');
    assert.equal(live('moving').length, 3);

    const moved = await api.put('/builds/moving', { appId: 'app-2', stack: 'linux', status: 'running', startedAt: startedAt(), remoteAccess: { ssh: tarpitSsh(tarpitA) } });
    assert.equal(moved.status, 200);
    const [byTester, byOutsider] = await Promise.all([closeWithin(tester.closed, CLOSE_BOUND_MS + CLOSE_SLACK_MS), closeWithin(outsider.closed, CLOSE_BOUND_MS + CLOSE_SLACK_MS)]);
    assert.ok(byTester, 'a tester on the new app kept a live terminal after the move');
    assert.ok(byOutsider, 'a non-member of the new app kept a live terminal after the move');
    assert.equal(byTester.code, 4001);
    assert.equal(byOutsider.code, 4001);
    assert.ok(byOutsider.ms <= CLOSE_BOUND_MS, `closed ${Math.round(byOutsider.ms)} ms after the move`);
    t.diagnostic(`moved build: tester and non-member closed with 4001 after ${Math.round(byTester.ms)} and ${Math.round(byOutsider.ms)} ms`);

    assert.equal(staying.ws.readyState, staying.ws.OPEN, 'a developer of the new app keeps the connection');
    assert.deepEqual(live('moving'), [{ userId: world.users.owner.id, appId: 'app-2', kind: 'ssh' }], 'the survivor now belongs to the new app');
    // Proof that it follows the new app: losing the role there ends it; the old app no longer matters.
    await api.put(`/apps/app-1/members/${world.users.owner.id}`, { role: 'tester' }).expect(200);
    assert.equal(staying.ws.readyState, staying.ws.OPEN, "a role change on the build's former app ends nothing");
    await api.put(`/apps/app-1/members/${world.users.owner.id}`, { role: 'owner' }).expect(200);
    await api.put(`/apps/app-2/members/${world.users.owner.id}`, { role: 'tester' }).expect(200);
    const byRole = await closeWithin(staying.closed, CLOSE_BOUND_MS + CLOSE_SLACK_MS);
    assert.equal(byRole?.code, 4001);
    await api.del(`/apps/app-2/members/${world.users.owner.id}`).expect(204);
    await api.del(`/apps/app-2/members/${world.users.admin.id}`).expect(204);
  });

  test('recordings stay with the app they were made under: the new app cannot read them, the old one still can', async () => {
    const api = control(gw);
    await api.put('/apps/app-1', { name: 'Mobile App', recordSessions: true }).expect(200);
    const ssh = passwordEndpoint(sshd);
    const body = (appId: string): Record<string, unknown> => ({ appId, stack: 'linux', status: 'running', startedAt: startedAt(), remoteAccess: { ssh } });
    await api.put('/builds/recorded', body('app-1')).expect(201);
    const developer = await signIn(gw, world.users.developer);
    const t = await terminal(developer, 'recorded');
    await t.waitForControl('ready');
    t.type('echo made-under-app-1\r');
    await t.waitForOutput(/made-under-app-1\r\n/);
    t.close();
    await t.closed;
    const list = async (agent: Awaited<ReturnType<typeof signIn>>): Promise<{ status: number; recordings: RecordingView[] }> => {
      const res = await agent.get('/api/v1/builds/recorded/recordings');
      return { status: res.status, recordings: (res.body as { recordings?: RecordingView[] }).recordings ?? [] };
    };
    let recording: RecordingView | undefined;
    await pollUntil('recording finished', RECORDING_WAIT_MS, async () => {
      [recording] = (await list(developer)).recordings;
      return recording !== undefined && recording.endedAt !== null;
    });
    assert.ok(recording);
    await api.put('/apps/app-1', { name: 'Mobile App', recordSessions: false }).expect(200);

    await api.put('/builds/recorded', body('app-2')).expect(200);
    const newOwner = await signIn(gw, world.users.outsider);
    const asNewOwner = await list(newOwner);
    assert.equal(asNewOwner.status, 200, 'the new app’s owner may look at the build’s recordings page');
    assert.deepEqual(asNewOwner.recordings, [], 'but sees none of those made under the old app');
    assert.equal((await newOwner.get(recording.url)).status, 404, 'nor downloads one by its id');
    assert.equal((await newOwner.get(recording.replayUrl)).status, 404, 'nor replays it');

    const asOldMember = await list(developer);
    assert.equal(asOldMember.status, 200);
    assert.deepEqual(asOldMember.recordings.map((r) => r.id), [recording.id], 'the members of the app it was made under still can');
    assert.equal((await developer.get(recording.url)).status, 200);
    const tester = await signIn(gw, world.users.tester);
    assert.equal((await tester.get(recording.url)).status, 404, 'testers of the old app still cannot');
  });

  test('re-registering with another host or rotated credentials ends the sessions to the old VM (4005); the same endpoint ends nothing', async (t) => {
    const api = control(gw);
    const vnc = (password: string): Record<string, unknown> => ({ host: tarpitA.host, port: tarpitA.port, username: 'runner', password });
    const put = (ssh: Record<string, unknown>, vncPassword = 'vnc-pw'): request.Test =>
      api.put('/builds/swapped', { appId: 'app-1', stack: 'macos', status: 'running', startedAt: '2026-01-01T00:00:00Z', remoteAccess: { ssh, vnc: vnc(vncPassword) } });
    await put(tarpitSsh(tarpitA)).expect(201);
    const owner = await signIn(gw, world.users.owner);
    const screenTicket = await mintTicket(gw, owner, 'swapped', 'vnc');
    const screen = await attemptUpgrade({ url: screenTicket.url, origin: gw.origin, protocols: ticketProtocols(screenTicket.protocol, screenTicket.ticket) });
    assert.ok(screen.opened);
    const screenClosed = closedOf(screen.ws);
    const first = await terminal(owner, 'swapped');
    assert.equal(live('swapped').length, 2);

    await put(tarpitSsh(tarpitA)).expect(200);
    assert.equal(live('swapped').length, 2, 'the same endpoint and secrets again (a replayed PUT) end nothing');

    await put(tarpitSsh(tarpitB)).expect(200);
    const byHost = await closeWithin(first.closed, CLOSE_BOUND_MS + CLOSE_SLACK_MS);
    assert.ok(byHost, 'a terminal to the old host survived the re-registration');
    assert.equal(byHost.code, 4005);
    assert.equal(byHost.reason, 'build VM replaced');
    t.diagnostic(`another host: terminal closed with 4005 after ${Math.round(byHost.ms)} ms`);
    assert.deepEqual(live('swapped').map((c) => c.kind), ['vnc'], 'the screen endpoint did not change, so the screen stays');

    const second = await terminal(owner, 'swapped');
    await put(tarpitSsh(tarpitB, 'rotated-pw')).expect(200);
    assert.equal((await closeWithin(second.closed, CLOSE_BOUND_MS + CLOSE_SLACK_MS))?.code, 4005, 'a rotated ssh password ends the terminal');

    const third = await terminal(owner, 'swapped');
    await put({ ...tarpitSsh(tarpitB, 'rotated-pw'), hostKey: 'SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM' }).expect(200);
    assert.equal((await closeWithin(third.closed, CLOSE_BOUND_MS + CLOSE_SLACK_MS))?.code, 4005, 'a new host key ends the terminal');

    await put({ ...tarpitSsh(tarpitB, 'rotated-pw'), hostKey: 'SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM' }, 'vnc-rotated').expect(200);
    const byVnc = await closeWithin(screenClosed, CLOSE_BOUND_MS + CLOSE_SLACK_MS);
    assert.equal(byVnc?.code, 4005, 'a rotated VNC password ends the screen');
  });
});

describe('item 4: one user cannot exhaust the ticket table', () => {
  let gw: TestGateway;
  let world: World;
  let tarpit: Tarpit;

  before(async () => {
    tarpit = await startTarpit();
    gw = await startGateway({ PORTHOLE_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS_PER_USER) });
    world = await seedWorld(gw, { ssh: { host: tarpit.host, port: tarpit.port, username: 'runner', password: 'tarpit-pw', hostKey: null } });
  });
  after(async () => {
    await gw.close();
    await tarpit.close();
  });

  test('tickets never redeemed are capped per user (429 for that user only); redeeming one frees its place', async () => {
    const perUser = TICKETS_PER_CONNECTION_SLOT * MAX_CONNECTIONS_PER_USER;
    const hoarder = await signIn(gw, world.users.developer);
    const mint = (agent: typeof hoarder): request.Test => agent.post(`/api/v1/builds/${world.builds.linuxRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh' });
    const tickets: string[] = [];
    for (let i = 0; i < perUser; i++) {
      const res = await mint(hoarder);
      assert.equal(res.status, 201, `ticket ${i + 1} of ${perUser}`);
      tickets.push((res.body as { ticket: string }).ticket);
    }
    const refused = await mint(hoarder);
    assert.equal(refused.status, 429, `ticket ${perUser + 1} is refused`);
    assert.equal((refused.body as { error: { code: string } }).error.code, 'rate_limited');
    assert.match((refused.body as { error: { message: string } }).error.message, /You have too many connections starting/);

    const other = await signIn(gw, world.users.owner);
    assert.equal((await mint(other)).status, 201, 'another user is not locked out');

    // A redeemed ticket is no longer outstanding: its place is free again.
    const url = `${gw.url.replace('http', 'ws')}/ws/ssh?build=${world.builds.linuxRunning}`;
    const upgrade = await attemptUpgrade({ url, origin: gw.origin, protocols: ticketProtocols(SSH_SUBPROTOCOL, tickets[0] ?? '') });
    assert.ok(upgrade.opened);
    upgrade.ws.close();
    assert.equal((await mint(hoarder)).status, 201);
  });

  test(`the global table (${MAX_LIVE_TICKETS} tickets) cannot be filled by one user: everyone else still gets tickets`, async (t) => {
    const now = (): Date => new Date();
    const book = new TicketBook(now, TICKETS_PER_CONNECTION_SLOT * MAX_CONNECTIONS_PER_USER);
    try {
      const claims = (userId: string): Parameters<TicketBook['mint']>[0] => ({ userId: userId as UserId, buildId: 'b' as BuildId, kind: 'ssh', origin: 'http://x', viewOnly: false, sessionEpoch: 'epoch', signInId: null, sessionId: null, watch: false });
      let minted = 0;
      for (let i = 0; i < MAX_LIVE_TICKETS; i++) if ((await book.mint(claims('hoarder'))).ok) minted += 1;
      t.diagnostic(`${MAX_LIVE_TICKETS} mints by one user: ${minted} tickets issued`);
      assert.equal(minted, TICKETS_PER_CONNECTION_SLOT * MAX_CONNECTIONS_PER_USER, 'one user holds at most the per-user cap');
      const others = await Promise.all(Array.from({ length: 100 }, (_, i) => book.mint(claims(`user-${i}`))));
      assert.ok(others.every((r) => r.ok), 'other users still mint');
    } finally {
      book.dispose();
    }
  });
});

describe('item 4 on PostgreSQL: the per-user cap holds across nodes', () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster.stop();
  });

  test('two nodes minting for one user at once issue exactly the cap; another user is unaffected', async () => {
    const url = await cluster.createDatabase();
    const [nodeA, nodeB] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    const perUser = TICKETS_PER_CONNECTION_SLOT * MAX_CONNECTIONS_PER_USER;
    const now = (): Date => new Date();
    const stores = [nodeA, nodeB].map((s) => postgresTokenStores(s.pool, now, { ticketsPerUser: perUser }));
    const [bookA, bookB] = stores.map((s) => new TicketBook(now, perUser, s.tickets));
    assert.ok(bookA && bookB);
    try {
      const claims = (userId: string): Parameters<TicketBook['mint']>[0] => ({ userId: userId as UserId, buildId: 'b' as BuildId, kind: 'ssh', origin: 'http://x', viewOnly: false, sessionEpoch: 'epoch', signInId: null, sessionId: null, watch: false });
      const attempts = await Promise.all(Array.from({ length: perUser * 10 }, (_, i) => (i % 2 === 0 ? bookA : bookB).mint(claims('hoarder'))));
      assert.equal(attempts.filter((r) => r.ok).length, perUser, 'exactly the cap, whichever node minted');
      assert.ok((await bookA.mint(claims('someone-else'))).ok);
    } finally {
      for (const s of stores) {
        s.tickets.dispose();
        s.launches.dispose();
        s.credentials.dispose();
      }
      await Promise.all([nodeA.close(), nodeB.close()]);
    }
  });
});

describe('item 5: unauthenticated audit floods', () => {
  let gw: TestGateway;
  let world: World;

  before(async () => {
    gw = await startGateway({ PORTHOLE_TRUST_PROXY: 'true' });
    world = await seedWorld(gw);
  });
  after(async () => {
    await gw.close();
  });

  async function flood(count: number, headers: Record<string, string> = {}): Promise<void> {
    const url = `${gw.url.replace('http', 'ws')}/ws/ssh?build=${world.builds.linuxRunning}`;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        next += 1;
        const outcome = await attemptUpgrade({ url, origin: gw.origin, protocols: ticketProtocols(SSH_SUBPROTOCOL, randomBytes(32).toString('base64url')), headers });
        assert.equal(outcome.opened, false);
      }
    };
    await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, worker));
  }

  async function refusalRows(): Promise<{ at: Date; details: Record<string, unknown> }[]> {
    await gw.app.audit.flush();
    const rows = await gw.store.listAudit({ limit: 100_000 });
    return rows.filter((r) => r.event === 'ticket_refused' && r.userId === null);
  }

  test(`${FLOOD_UPGRADES} refused upgrades with guessed tickets from one client write one row with a count`, async (t) => {
    const started = performance.now();
    await flood(FLOOD_UPGRADES);
    const seconds = (performance.now() - started) / 1000;
    const rows = await refusalRows();
    t.diagnostic(`${FLOOD_UPGRADES} refused upgrades in ${seconds.toFixed(1)} s (${Math.round(FLOOD_UPGRADES / seconds)}/s) wrote ${rows.length} audit row(s)`);
    assert.equal(rows.length, 1, `${rows.length} rows for ${FLOOD_UPGRADES} refusals in ${seconds.toFixed(1)} s`);
    const [row] = rows;
    assert.deepEqual(
      { ...row?.details, firstAt: undefined, lastAt: undefined },
      { stage: 'redeem', reason: 'unknown_or_used', kind: 'ssh', clientAddress: '127.0.0.1', count: FLOOD_UPGRADES, windowSeconds: REFUSAL_WINDOW_MS / 1000, firstAt: undefined, lastAt: undefined },
    );
    assert.ok(typeof row?.details['firstAt'] === 'string' && typeof row.details['lastAt'] === 'string');
    // Metrics still count every refusal.
    const metrics = await request(gw.url).get('/metrics').set('Authorization', `Bearer ${gw.controlToken}`);
    assert.match(metrics.text, /ticket_refused|ticket.*refus/);
  });

  test('the client address is the one the trusted proxy saw (one hop), never a header the client controls further back', async () => {
    await refusalRows();
    const before = new Set((await gw.store.listAudit({ limit: 100_000 })).map((r) => r.id));
    await flood(10, { 'X-Forwarded-For': '203.0.113.9, 198.51.100.7' });
    await flood(10, { 'X-Forwarded-For': '198.51.100.8' });
    await gw.app.audit.flush();
    const rows = (await gw.store.listAudit({ limit: 100_000 })).filter((r) => !before.has(r.id) && r.event === 'ticket_refused');
    const byAddress = Object.fromEntries(rows.map((r) => [String(r.details['clientAddress']), r.details['count']]));
    assert.deepEqual(byAddress, { '198.51.100.7': 10, '198.51.100.8': 10 });
  });

  test('failed sign-ins are aggregated per client address too', async () => {
    const before = new Set((await gw.store.listAudit({ limit: 100_000 })).map((r) => r.id));
    for (let i = 0; i < 5; i++) {
      const res = await request(gw.url).post('/auth/login').set('Origin', gw.origin).set('X-Forwarded-For', '192.0.2.44').send({ email: 'nobody@example.test', password: 'wrong password' });
      assert.equal(res.status, 401);
    }
    await gw.app.audit.flush();
    const rows = (await gw.store.listAudit({ limit: 100_000 })).filter((r) => !before.has(r.id) && r.event === 'login_failed');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.details['count'], 5);
    assert.equal(rows[0]?.details['email'], 'nobody@example.test');
    assert.equal(rows[0]?.details['clientAddress'], '192.0.2.44');
  });

  test('PORTHOLE_AUDIT_RETENTION_DAYS: rows older than the retention period are pruned', async () => {
    assert.equal(gw.config.auditRetentionDays, 365, 'a generous default');
    const store = SqliteStore.open(':memory:');
    try {
      const now = new Date();
      const row = (daysAgo: number): Parameters<typeof store.appendAudit>[0][number] => ({
        at: new Date(now.getTime() - daysAgo * DAY_MS),
        event: 'login_succeeded',
        userId: `u-${daysAgo}` as UserId,
        buildId: null,
        details: {},
      });
      await store.appendAudit([400, 91, 89, 1].map(row));
      const pruned = await sweepAudit({ store, retentionDays: 90, logger: quietLogger, now: () => now });
      assert.equal(pruned, 2);
      assert.deepEqual((await store.listAudit({ limit: 10 })).map((r) => r.userId), ['u-1', 'u-89']);
    } finally {
      await store.close();
    }
  });
});
