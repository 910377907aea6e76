/**
 * Two built gateway processes on one PostgreSQL (started by the harness), with a real sshd as the
 * build VM and a made-up load-balancer origin as both nodes' public URL. A ticket minted through
 * node A is honoured exactly once by any node; access changes sent to A close connections held
 * by B within a second (a build moved to another app or to another VM included); B closes at the
 * window's end even when its notifications are cut; the
 * live view lists B's connections from A. The single-node live view is checked on SQLite.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startGateway, type GatewayAddress } from '../helpers/gateway.js';
import { PASSWORD_USER, startSshd, passwordEndpoint, type SshdHandle } from '../helpers/sshd.js';
import { control, registerClosingBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { connectTerminal, mintTicket, mintWatchTicket, type TerminalClient, type Ticket } from '../helpers/terminal-client.js';
import type { MemberSessionView, MemberSessionsView } from '../../shared/src/api.js';
import { CloseCode } from '../../shared/src/protocol/close-codes.js';
import { freePort, pollUntil } from '../helpers/ports.js';
import { LISTENER_APPLICATION_PREFIX } from '../../server/src/cluster/pg-notifications.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';
import { SSH_SUBPROTOCOL, type Participant } from '../../shared/src/protocol/ssh-v1.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';
import { deriveRelayKey, signRelayAssertion, type RelayClaims } from '../../server/src/cluster/relay-assertion.js';
import { relayUrl, WATCHER_ACTION_PATH } from '../../server/src/cluster/relay-paths.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { startCounter } from '../helpers/counter-loop.js';
import { attemptUpgrade } from '../helpers/upgrade-probe.js';
import { waitForAudit } from '../helpers/ops.js';
import { cookieOfAgent, openWindowEvents } from '../helpers/window-events.js';

/** The issue's bound: every node closes affected connections within a second. */
const CROSS_NODE_CLOSE_MS = 1_000;
const REDEMPTION_ATTEMPTS = 1_000;
/** How far ahead of "now" the deadline test sets the window's end. */
const DEADLINE_AHEAD_MS = 3_000;
/** Timer slack on a loaded machine, on top of the 1 s bound. */
const GRACE_MINUTES = 10;
const MS_PER_MINUTE = 60_000;
const WAIT_MS = 15_000;
/** Short, so the last test sees a node give up on its database quickly. */
const FAIL_CLOSED_SECONDS = 3;
/** The watchdog looks twice a second; allow a little more on a loaded machine. */
const FAIL_CLOSED_SLACK_MS = 1_500;

type SharedSetting =
  | 'PORTHOLE_DATABASE'
  | 'PORTHOLE_PUBLIC_URL'
  | 'PORTHOLE_CONTROL_TOKEN'
  | 'PORTHOLE_SESSION_SECRET'
  | 'PORTHOLE_SECRET_KEY'
  | 'PORTHOLE_GRACE_MINUTES'
  | 'PORTHOLE_FAIL_CLOSED_SECONDS';

describe('two gateway nodes on one PostgreSQL', () => {
  let cluster: PostgresCluster;
  let sshd: SshdHandle;
  let nodeA: GatewayProcess;
  let nodeB: GatewayProcess;
  let a: GatewayAddress;
  let b: GatewayAddress;
  let world: World;
  let agent: TestAgent;
  /** What every node of the cluster shares; a node started by a test joins with it. */
  let shared: Readonly<Record<SharedSetting, string>>;
  const terminals: TerminalClient[] = [];

  before(async () => {
    [cluster, sshd] = await Promise.all([startPostgres(), startSshd()]);
    const database = await cluster.createDatabase();
    const balancer = `http://127.0.0.1:${await freePort()}`;
    shared = {
      PORTHOLE_DATABASE: database,
      PORTHOLE_PUBLIC_URL: balancer,
      PORTHOLE_CONTROL_TOKEN: `control-${randomBytes(16).toString('hex')}`,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_GRACE_MINUTES: String(GRACE_MINUTES),
      PORTHOLE_FAIL_CLOSED_SECONDS: String(FAIL_CLOSED_SECONDS),
    };
    // One after the other: the first applies the migrations, the second finds them done.
    nodeA = await startGatewayProcess({ ...shared, PORTHOLE_NODE_ID: 'node-a' });
    nodeB = await startGatewayProcess({ ...shared, PORTHOLE_NODE_ID: 'node-b' });
    a = { url: nodeA.url, origin: balancer, controlToken: shared.PORTHOLE_CONTROL_TOKEN };
    b = { url: nodeB.url, origin: balancer, controlToken: shared.PORTHOLE_CONTROL_TOKEN };
    world = await seedWorld(a, { ssh: passwordEndpoint(sshd) });
    agent = await signIn(a, world.users.developer);
  });

  after(async () => {
    for (const t of terminals) t.close();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await Promise.all([cluster?.stop(), sshd?.stop()]);
  });

  /** The ticket's URL names the load balancer; send the upgrade to node B instead. */
  function viaB(ticket: Ticket): Ticket {
    const url = new URL(ticket.url);
    url.host = new URL(nodeB.url).host;
    return { ...ticket, url: url.href };
  }

  /** A running build started half an hour ago, so a finish time a grace period back is valid. */
  async function registerBuild(buildId: string): Promise<void> {
    const startedAt = new Date(Date.now() - 3 * GRACE_MINUTES * MS_PER_MINUTE).toISOString();
    await control(a).put(`/builds/${buildId}`, { appId: 'app-1', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh: passwordEndpoint(sshd) } }).expect(201);
  }

  async function terminalOnB(buildId: string): Promise<TerminalClient> {
    const t = await connectTerminal(viaB(await mintTicket(a, agent, buildId)), b);
    terminals.push(t);
    await t.waitForControl('ready');
    return t;
  }

  async function timeToClose(t: TerminalClient, act: () => Promise<unknown>): Promise<{ code: number; reason: string; ms: number }> {
    const started = Date.now();
    await act();
    const closed = await t.closed;
    return { ...closed, ms: Date.now() - started };
  }

  test('a ticket minted through A is redeemed exactly once under 1,000 concurrent attempts through B', async () => {
    const ticket = viaB(await mintTicket(a, agent, world.builds.linuxRunning));
    const attempt = (): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(ticket.url, [ticket.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${ticket.ticket}`], { headers: { Origin: b.origin } });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', () => resolve(-1));
      });
    const outcomes = await Promise.all(Array.from({ length: REDEMPTION_ATTEMPTS }, attempt));
    const counts = new Map<number, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(counts), { 101: 1, 401: REDEMPTION_ATTEMPTS - 1 });
  });

  test('the live view on A lists a connection held by B', async () => {
    await registerBuild('build-live');
    const t = await terminalOnB('build-live');
    let sessions: { node: string; userId: string; kind: string; openedAt: string; bytesToBrowser: number }[] = [];
    await pollUntil('B registers its connection', WAIT_MS, async () => {
      sessions = (await control(a).get('/builds/build-live/sessions').expect(200)).body.sessions;
      return sessions.length === 1;
    });
    assert.equal(sessions[0]?.node, 'node-b');
    assert.equal(sessions[0]?.userId, world.users.developer.id);
    assert.equal(sessions[0]?.kind, 'ssh');
    assert.ok(!Number.isNaN(Date.parse(sessions[0]?.openedAt ?? '')));
    assert.equal(typeof sessions[0]?.bytesToBrowser, 'number');
    assert.equal((await control(a).get('/builds/no-such-build/sessions')).status, 404);
    t.close();
    await t.closed;
    await pollUntil('B forgets the closed connection', WAIT_MS, async () => (await control(a).get('/builds/build-live/sessions')).body.sessions.length === 0);
  });

  test('the members’ live sessions on A show a session held by B and who watches it; the owner’s actions through A are forwarded to B (issue #16)', async () => {
    await registerBuild('build-pairing-ab');
    const owner = await terminalOnB('build-pairing-ab');
    const sessionId = sessionIdOf(owner);
    // Watching is joined on the node holding the session: the watcher's ticket is minted through B.
    const watcherOnB = await signIn(b, world.users.admin);
    const watchTicket = viaB(await mintWatchTicket(b, watcherOnB, 'build-pairing-ab', sessionId));
    const watcher = await connectTerminal(watchTicket, b);
    terminals.push(watcher);
    await watcher.waitForControl('ready');

    const memberOnA = await signIn(a, world.users.owner);
    const listed = async (): Promise<MemberSessionView | undefined> =>
      ((await memberOnA.get('/api/v1/builds/build-pairing-ab/live-sessions').expect(200)).body as MemberSessionsView).sessions.find((s) => s.sessionId === sessionId);
    await pollUntil('A to list the watched session B holds', WAIT_MS, async () => (await listed())?.watchers.length === 1);
    const seen = await listed();
    assert.deepEqual(
      { kind: seen?.kind, owner: seen?.owner, yours: seen?.yours, state: seen?.state, watchers: seen?.watchers },
      { kind: 'ssh', owner: { userId: world.users.developer.id, name: world.users.developer.id }, yours: false, state: 'attached', watchers: [{ userId: world.users.admin.id, name: world.users.admin.id, mode: 'watch', you: false }] },
    );

    const path = (watcherId: string = world.users.admin.id): string => `/api/v1/builds/build-pairing-ab/live-sessions/${sessionId}/watchers/${watcherId}`;
    const strangerOnA = await memberOnA.put(path()).set('Origin', a.origin).send({ mode: 'drive' });
    assert.deepEqual([strangerOnA.status, strangerOnA.body.error.code], [403, 'not_session_owner'], 'someone else’s session, wherever it is');
    const nobodyOnA = await agent.put(path(world.users.tester.id)).set('Origin', a.origin).send({ mode: 'drive' });
    assert.deepEqual([nobodyOnA.status, nobodyOnA.body.error.code], [404, 'not_found'], 'B answers that no such watcher is on it');
    assert.equal((await listed())?.watchers[0]?.mode, 'watch', 'the refused calls changed nothing');

    await agent.put(path()).set('Origin', a.origin).send({ mode: 'drive' }).expect(204);
    await pollUntil('A to see the watcher drive', WAIT_MS, async () => (await listed())?.watchers[0]?.mode === 'drive');
    watcher.type('echo co-driven-$((11*11))\r');
    await owner.waitForOutput(/co-driven-121/);
    owner.ws.terminate();
    await pollUntil('A to see the session held', WAIT_MS, async () => (await listed())?.state === 'held');
    await agent.delete(path()).set('Origin', a.origin).expect(204);
    assert.equal((await watcher.closed).code, CloseCode.removedByOwner);
    const removed = await waitForAudit(a, (e) => e.event === 'watcher_removed' && e.details['watcherId'] === world.users.admin.id, { buildId: 'build-pairing-ab' });
    assert.equal(removed.userId, world.users.developer.id);
    await pollUntil('A to see nobody watching', WAIT_MS, async () => (await listed())?.watchers.length === 0);
    const again = await agent.delete(path()).set('Origin', a.origin);
    assert.deepEqual([again.status, again.body.error.code], [404, 'not_found'], 'a replayed DELETE finds no watcher');

    await control(a).post('/builds/build-pairing-ab/revoke').expect(200);
    const closed = await memberOnA.get('/api/v1/builds/build-pairing-ab/live-sessions');
    assert.deepEqual([closed.status, closed.body.error.code], [410, 'window_closed'], 'a closed window is refused as a ticket is');
  });

  test('the internal watcher-action endpoint takes only a fresh action assertion for the owner’s session; the relay upgrade takes none (issue #16)', async () => {
    await registerBuild('build-action-gate');
    const owner = await terminalOnB('build-action-gate');
    const sessionId = sessionIdOf(owner);
    const watcher = await connectTerminal(viaB(await mintWatchTicket(b, await signIn(b, world.users.admin), 'build-action-gate', sessionId)), b);
    terminals.push(watcher);
    await watcher.waitForControl('ready');
    const key = deriveRelayKey(Buffer.from(shared.PORTHOLE_SECRET_KEY, 'hex'));
    const claims: RelayClaims = {
      sessionId,
      userId: world.users.developer.id as UserId,
      buildId: 'build-action-gate' as BuildId,
      kind: 'ssh',
      from: 'node-a',
      to: 'node-b',
      watcher: null,
      act: { watcherId: world.users.admin.id as UserId, op: 'remove' },
    };
    const post = (authorization?: string): Promise<number> =>
      request(nodeB.url)
        .post(WATCHER_ACTION_PATH)
        .set(authorization === undefined ? {} : { Authorization: authorization })
        .then((res) => res.status);
    assert.equal(await post(), 401, 'no assertion');
    assert.equal(await post(`Bearer ${shared.PORTHOLE_CONTROL_TOKEN}`), 401, 'the control token is no node');
    assert.equal(await post(signRelayAssertion(deriveRelayKey(randomBytes(32)), claims, new Date())), 401, 'signed with another key');
    assert.equal(await post(signRelayAssertion(key, { ...claims, to: 'node-a' }, new Date())), 401, 'meant for another node');
    const { act: _act, ...resume } = claims;
    assert.equal(await post(signRelayAssertion(key, resume, new Date())), 401, 'a resume assertion acts on nobody');
    assert.equal(await post(signRelayAssertion(key, { ...claims, userId: world.users.admin.id as UserId }, new Date())), 404, "the watcher cannot act on the owner's session");
    const upgrade = await attemptUpgrade({ url: relayUrl(nodeB.url, 'ssh'), protocols: [SSH_SUBPROTOCOL], headers: { authorization: signRelayAssertion(key, claims, new Date()) } });
    if (upgrade.opened) upgrade.ws.terminate();
    assert.equal(upgrade.opened ? 101 : upgrade.status, 401, 'an action assertion attaches no page');
    const valid = signRelayAssertion(key, claims, new Date());
    assert.equal(await post(valid), 204);
    assert.equal((await watcher.closed).code, CloseCode.removedByOwner);
    assert.equal(await post(valid), 401, 'an assertion is good once');
    owner.close();
  });

  test('finish sent to A closes the connection held by B within 1 s', async () => {
    await registerBuild('build-finish');
    const t = await terminalOnB('build-finish');
    // Finished a grace period ago: the window closes now.
    const finishedAt = new Date(Date.now() - GRACE_MINUTES * MS_PER_MINUTE).toISOString();
    const closed = await timeToClose(t, () => control(a).post('/builds/build-finish/finish', { finishedAt }).expect(200));
    assert.equal(closed.code, 4000);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
  });

  test('revoke sent to A closes the connection held by B within 1 s', async () => {
    await registerBuild('build-revoke');
    const t = await terminalOnB('build-revoke');
    const closed = await timeToClose(t, () => control(a).post('/builds/build-revoke/revoke').expect(200));
    assert.deepEqual([closed.code, closed.reason], [4000, 'access revoked']);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
  });

  test('extend through A reaches the terminal held by B at once; release through A closes it within 1 s naming who (issue #20)', { timeout: WAIT_MS }, async () => {
    // Closing 5 minutes from now: within the 15-minute last step.
    const registered = await registerClosingBuild(a, 'build-extend', 5, { stack: 'linux', remoteAccess: { ssh: passwordEndpoint(sshd) }, graceMinutes: GRACE_MINUTES }).expect(201);
    const t = await terminalOnB('build-extend');
    await t.waitForControl('window');
    const windowsBefore = t.controls.filter((c) => c.type === 'window').length;

    const extended = await agent.post('/api/v1/builds/build-extend/extend').set('Origin', a.origin).expect(200);
    const expected = new Date(Date.parse(registered.body.window.closesAt as string) + 15 * MS_PER_MINUTE).toISOString();
    assert.equal(extended.body.closesAt, expected);
    await pollUntil('the extended window on B', CROSS_NODE_CLOSE_MS, async () => t.controls.filter((c) => c.type === 'window').length > windowsBefore);
    const pushed = t.controls.filter((c) => c.type === 'window').at(-1);
    assert.ok(pushed?.type === 'window' && pushed.closesAt === expected, JSON.stringify(pushed));

    const closed = await timeToClose(t, () => agent.post('/api/v1/builds/build-extend/release').set('Origin', a.origin).expect(200));
    assert.deepEqual([closed.code, closed.reason], [4000, `released by ${world.users.developer.id}`]);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
  });

  test('an extend through A reaches a window stream held by B at once; signing out through A ends it (issue #20)', { timeout: WAIT_MS }, async () => {
    await registerClosingBuild(a, 'build-stream', 5, { stack: 'linux', remoteAccess: { ssh: passwordEndpoint(sshd) }, graceMinutes: GRACE_MINUTES }).expect(201);
    const browser = await signIn(a, world.users.developer);
    const stream = await openWindowEvents(b, cookieOfAgent(browser, a), 'build-stream');
    try {
      assert.equal(stream.status, 200);
      await stream.next('window', (d) => d['canExtend'] === true);
      const extended = await browser.post('/api/v1/builds/build-stream/extend').set('Origin', a.origin).expect(200);
      await stream.next('window', (d) => d['closesAt'] === extended.body.closesAt);
      await browser.post('/auth/logout').set('Origin', a.origin).send({}).expect(204);
      assert.equal((await stream.next('end')).data['reason'], 'signed out');
      await stream.ended;
    } finally {
      stream.close();
    }
  });

  test('a role change sent to A closes the connection held by B within 1 s', async () => {
    await registerBuild('build-role');
    const t = await terminalOnB('build-role');
    const closed = await timeToClose(t, () => control(a).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'tester' }).expect(200));
    assert.equal(closed.code, 4001);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
    await control(a).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'developer' }).expect(200);
  });

  test('a build moved through A to an app where the user has no role closes the connection held by B within 1 s (issue #22)', { timeout: WAIT_MS }, async () => {
    await registerBuild('build-moved');
    const t = await terminalOnB('build-moved');
    const startedAt = new Date(Date.now() - 3 * GRACE_MINUTES * MS_PER_MINUTE).toISOString();
    const closed = await timeToClose(t, () =>
      control(a).put('/builds/build-moved', { appId: 'app-2', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh: passwordEndpoint(sshd) } }).expect(200),
    );
    assert.deepEqual([closed.code, closed.reason], [4001, 'build moved to another app']);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
  });

  test('a build re-registered through A with rotated VM credentials closes the session held by B within 1 s (issue #22)', { timeout: WAIT_MS }, async () => {
    await registerBuild('build-rotated');
    const t = await terminalOnB('build-rotated');
    const startedAt = new Date(Date.now() - 3 * GRACE_MINUTES * MS_PER_MINUTE).toISOString();
    const ssh = { ...passwordEndpoint(sshd), password: 'rotated-by-the-orchestrator' };
    const closed = await timeToClose(t, () => control(a).put('/builds/build-rotated', { appId: 'app-1', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh } }).expect(200));
    assert.deepEqual([closed.code, closed.reason], [4005, 'build VM replaced']);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
  });

  test("with B's notification connection killed, B still closes at the window's end", async () => {
    await registerBuild('build-deadline');
    const t = await terminalOnB('build-deadline');
    const killed = await cluster.query<{ killed: boolean }>(
      'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
      [`${LISTENER_APPLICATION_PREFIX}node-b`],
    );
    assert.deepEqual(killed, [{ killed: true }], "B's listening connection was found and killed");
    const closesAt = Date.now() + DEADLINE_AHEAD_MS;
    const finishedAt = new Date(closesAt - GRACE_MINUTES * MS_PER_MINUTE).toISOString();
    await control(a).post('/builds/build-deadline/finish', { finishedAt }).expect(200);
    const closed = await t.closed;
    const lateBy = Date.now() - closesAt;
    assert.equal(closed.code, 4000);
    assert.ok(lateBy > -CROSS_NODE_CLOSE_MS / 10, `closed ${-lateBy} ms before the window's end`);
    assert.ok(lateBy < CROSS_NODE_CLOSE_MS, `closed ${lateBy} ms after the window's end`);
    assert.ok(nodeB.logs().some((l) => l['event'] === 'cluster_listen_lost'), 'B noticed the lost connection');
    await pollUntil('B listens again', WAIT_MS, async () => nodeB.logs().filter((l) => l['event'] === 'cluster_listening').length >= 2);
  });

  test('signing out through A closes that browser session’s connection held by B within 1 s (issue #22)', async () => {
    await registerBuild('build-sign-out');
    const browser = await signIn(a, world.users.developer);
    const t = await connectTerminal(viaB(await mintTicket(a, browser, 'build-sign-out')), b);
    terminals.push(t);
    await t.waitForControl('ready');
    const closed = await timeToClose(t, () => browser.post('/auth/logout').set('Origin', a.origin).send({}).expect(204));
    assert.deepEqual([closed.code, closed.reason], [4001, 'signed out']);
    assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed after ${closed.ms} ms`);
  });

  test('a password change sent to A closes the user’s connection held by B within 1 s (issue #22)', async () => {
    await registerBuild('build-password');
    const user = { id: 'user-password', email: 'password@example.test', password: 'pw-before-change' };
    await control(a).put(`/users/${user.id}`, { email: user.email, password: user.password }).expect(201);
    await control(a).put(`/apps/app-1/members/${user.id}`, { role: 'developer' }).expect(201);
    const t = await connectTerminal(viaB(await mintTicket(a, await signIn(a, user), 'build-password')), b);
    terminals.push(t);
    await t.waitForControl('ready');
    // Timed from A's answer: the PUT itself spends about a second hashing the new password.
    await control(a).put(`/users/${user.id}`, { email: user.email, password: 'pw-after-change' }).expect(200);
    const answeredAt = Date.now();
    const closed = await t.closed;
    const ms = Date.now() - answeredAt;
    assert.deepEqual([closed.code, closed.reason], [4001, 'sign-in changed']);
    assert.ok(ms < CROSS_NODE_CLOSE_MS, `closed ${ms} ms after A answered`);
  });

  test('files (issue #17): signed in through A, a download through B arrives whole; revoke sent to A cuts a download held by B within 1 s', async () => {
    // A file of this test's own in the VM user's home, written as root beside the sshd.
    const dir = mkdtempSync(`/home/${PASSWORD_USER}/so-files-`);
    const big = randomBytes(20 * 1024 * 1024);
    writeFileSync(`${dir}/big.bin`, big);
    execFileSync('chown', ['-R', `${PASSWORD_USER}:`, dir]);
    try {
      await registerBuild('build-files');
      const cookie = await signedInCookie(a, world.users.developer.email, world.users.developer.password);
      const url = `${b.url}/api/v1/builds/build-files/files/content?${new URLSearchParams({ path: `${dir}/big.bin` }).toString()}`;
      const headers = { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin' };
      const whole = await fetch(url, { headers });
      assert.equal(whole.status, 200);
      assert.equal(createHash('sha256').update(Buffer.from(await whole.arrayBuffer())).digest('hex'), createHash('sha256').update(big).digest('hex'));

      // Read nothing more until B has heard the revocation: held back by backpressure meanwhile.
      const slow = await fetch(url, { headers });
      assert.equal(slow.status, 200);
      const reader = slow.body?.getReader();
      assert.ok(reader);
      assert.equal((await reader.read()).done, false);
      const started = Date.now();
      await control(a).post('/builds/build-files/revoke').expect(200);
      const endedOnB = (): Record<string, unknown> | undefined => nodeB.logs().find((l) => l['event'] === 'file_transfer_ended' && l['buildId'] === 'build-files');
      await pollUntil('B ended the download', 5_000, async () => endedOnB() !== undefined);
      const ms = Number(endedOnB()?.['time']) - started;
      const cut = await (async () => {
        try {
          for (;;) if ((await reader.read()).done) return false;
        } catch {
          return true;
        }
      })();
      await reader.cancel().catch(() => undefined);
      assert.ok(cut, 'the download was cut, not completed');
      assert.ok(ms < CROSS_NODE_CLOSE_MS, `cut after ${ms} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a sign-in through A is a sign-in on B: login sessions live in PostgreSQL', async () => {
    const cookie = await signedInCookie(a, world.users.developer.email, world.users.developer.password);
    const page = await request(b.url).get('/').set('Cookie', cookie);
    assert.equal(page.status, 200);
    assert.match(page.text, /Your builds/);
  });
  /** Opens a terminal on A through a relay whose network can be cut; waits for `ready`. */
  async function terminalOnA(buildId: string, via: TcpRelay): Promise<TerminalClient> {
    const t = await connectTerminal(await mintTicket(a, agent, buildId), a, { via });
    terminals.push(t);
    await t.waitForControl('ready');
    return t;
  }

  /** Resumes a session through `node`, its ticket minted through that node too. */
  async function resumeThrough(node: GatewayAddress, nodeAgent: TestAgent, buildId: string, sessionId: string, received: number): Promise<TerminalClient> {
    const ticket = await mintTicket(node, nodeAgent, buildId, 'ssh', sessionId);
    const url = new URL(ticket.url);
    url.host = new URL(node.url).host;
    const t = await connectTerminal({ ...ticket, url: url.href }, node, { resumeFrom: received });
    terminals.push(t);
    await t.waitForControl('resumed');
    assert.deepEqual(
      t.controls.find((c) => c.type === 'resumed'),
      { type: 'resumed', offset: received, recorded: false },
      'everything the page had not received is still held',
    );
    return t;
  }

  function sessionIdOf(t: TerminalClient): string {
    const ready = t.controls.find((c) => c.type === 'ready');
    assert.ok(ready?.type === 'ready');
    return ready.sessionId;
  }

  test('a session opened through A and cut is resumed through B: nothing lost, the same shell, A still enforcing access (issue #15)', async () => {
    await registerBuild('build-resume-ab');
    const relayToA = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(nodeA.url).port) });
    try {
      const first = await terminalOnA('build-resume-ab', relayToA);
      const sessionId = sessionIdOf(first);
      const counter = await startCounter(first, sessionId);
      relayToA.cut();
      assert.equal((await first.closed).code, 1006, 'a cut, not a clean close');
      const received = first.outputBytes();
      const agentB = await signIn(b, world.users.developer);
      const outsiderOnB = await signIn(b, world.users.owner);
      const foreign = await outsiderOnB.post('/api/v1/builds/build-resume-ab/connections').set('Origin', b.origin).send({ kind: 'ssh', sessionId });
      assert.equal(foreign.status, 404, 'another user cannot resume it through B either');
      assert.equal(foreign.body.error.code, 'session_not_found');

      const second = await resumeThrough(b, agentB, 'build-resume-ab', sessionId, received.length);
      const { lines } = await counter.verifyResumed(received, second);
      console.log(`resumed through B: ${lines} numbers in order, ${received.length} bytes before the cut`);
      const resumedRow = await waitForAudit(a, (e) => e.event === 'session_resumed' && e.details['connectionId'] === sessionId, { buildId: 'build-resume-ab' });
      assert.equal(resumedRow.details['node'], 'node-a');
      assert.equal(resumedRow.details['via'], 'node-b');

      const closed = await timeToClose(second, () => control(a).post('/builds/build-resume-ab/revoke').expect(200));
      assert.deepEqual([closed.code, closed.reason], [4000, 'access revoked'], 'A ends the session; B hands the page its code');
      assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed ${closed.ms} ms after the revocation`);
    } finally {
      await relayToA.close();
    }
  });

  test('a draining relay node sends its pages 1001; the page resumes through another node with nothing lost (issue #15)', async () => {
    await registerBuild('build-resume-drain');
    const nodeC = await startGatewayProcess({ ...shared, PORTHOLE_NODE_ID: 'node-c' });
    const c: GatewayAddress = { url: nodeC.url, origin: a.origin, controlToken: a.controlToken };
    const relayToA = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(nodeA.url).port) });
    try {
      const first = await terminalOnA('build-resume-drain', relayToA);
      const sessionId = sessionIdOf(first);
      const counter = await startCounter(first, sessionId);
      relayToA.cut();
      await first.closed;
      const receivedFirst = first.outputBytes();
      const second = await resumeThrough(c, await signIn(c, world.users.developer), 'build-resume-drain', sessionId, receivedFirst.length);
      await second.waitForOutput(/[\r\n]n\d+\r\n/);
      const [closed] = await Promise.all([second.closed, nodeC.stop()]);
      assert.equal(closed.code, 1001, 'the relay node restarting is no end of the session');
      const received = Buffer.concat([receivedFirst, second.outputBytes()]);
      const third = await resumeThrough(a, agent, 'build-resume-drain', sessionId, received.length);
      await counter.verifyResumed(received, third);
      third.close();
    } finally {
      await relayToA.close();
      await nodeC.stop();
    }
  });

  test('the internal relay endpoint takes only a fresh assertion signed with the cluster key, for a session held there (issue #15)', async () => {
    await registerBuild('build-relay-gate');
    const relayToA = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(nodeA.url).port) });
    try {
      const t = await terminalOnA('build-relay-gate', relayToA);
      const sessionId = sessionIdOf(t);
      const key = deriveRelayKey(Buffer.from(shared.PORTHOLE_SECRET_KEY, 'hex'));
      const claims: RelayClaims = { sessionId, userId: world.users.developer.id as UserId, buildId: 'build-relay-gate' as BuildId, kind: 'ssh', from: 'node-b', to: 'node-a', watcher: null };
      const attempt = (authorization?: string) =>
        attemptUpgrade({ url: relayUrl(nodeA.url, 'ssh'), protocols: [SSH_SUBPROTOCOL], headers: authorization === undefined ? {} : { authorization } });
      const statusOf = async (authorization?: string): Promise<number> => {
        const outcome = await attempt(authorization);
        if (outcome.opened) outcome.ws.terminate();
        return outcome.opened ? 101 : outcome.status;
      };
      const strangerKey = deriveRelayKey(randomBytes(32));
      assert.equal(await statusOf(), 401, 'no assertion');
      assert.equal(await statusOf(`Bearer ${shared.PORTHOLE_CONTROL_TOKEN}`), 401, 'the control token is no node');
      assert.equal(await statusOf(signRelayAssertion(strangerKey, claims, new Date())), 401, 'signed with another key');
      assert.equal(await statusOf(signRelayAssertion(key, { ...claims, to: 'node-b' }, new Date())), 401, 'meant for another node');
      assert.equal(await statusOf(signRelayAssertion(key, { ...claims, sessionId: '0123456789abcdef' }, new Date())), 404, 'no such session');
      assert.equal(await statusOf(signRelayAssertion(key, { ...claims, userId: world.users.owner.id as UserId }, new Date())), 404, "someone else's session");
      const valid = signRelayAssertion(key, claims, new Date());
      const taken = await attempt(valid);
      assert.ok(taken.opened, 'a valid assertion attaches');
      assert.equal((await t.closed).code, 4007, 'the page it replaced hears so');
      taken.ws.close(1000);
      assert.equal(await statusOf(valid), 401, 'an assertion is good once');
      const logs = nodeA.rawLogs() + nodeB.rawLogs();
      assert.ok(!logs.includes(valid.split('.').at(-1) ?? 'x'), 'no assertion in the logs');
    } finally {
      await relayToA.close();
    }
  });

  /** The ticket's URL names the load balancer; send the upgrade to `node` instead. */
  function toNode(ticket: Ticket, node: GatewayAddress): Ticket {
    const url = new URL(ticket.url);
    url.host = new URL(node.url).host;
    return { ...ticket, url: url.href };
  }

  function latestParticipants(t: TerminalClient): readonly Participant[] {
    const last = t.controls.filter((c) => c.type === 'participants').at(-1);
    return last?.type === 'participants' ? last.list : [];
  }

  test('a member watches through B a session held by A: the same bytes, no keys until handed control; A drops it on removal, sign-out and with the session (issue #16)', { timeout: 60_000 }, async () => {
    const buildId = 'build-watch-ab';
    await registerBuild(buildId);
    await registerBuild('build-watch-other');
    const owner = await connectTerminal(toNode(await mintTicket(a, agent, buildId), a), a, { size: { cols: 100, rows: 30 } });
    terminals.push(owner);
    await owner.waitForControl('ready');
    const sessionId = sessionIdOf(owner);
    owner.type('echo before-$((6*7))\r');
    await owner.waitForOutput(/before-42/);

    let watcherOnB = await signIn(b, world.users.admin);
    const askB = (agentB: TestAgent, build: string, id: string) =>
      agentB.post(`/api/v1/builds/${build}/connections`).set('Origin', b.origin).send({ kind: 'ssh', sessionId: id, mode: 'watch' });
    const forged = await askB(watcherOnB, buildId, '0123456789abcdef');
    assert.deepEqual([forged.status, forged.body.error?.code], [404, 'session_not_found'], 'a forged id, though B could ask A');
    const crossBuild = await askB(watcherOnB, 'build-watch-other', sessionId);
    assert.deepEqual([crossBuild.status, crossBuild.body.error?.code], [404, 'session_not_found'], "a session on another build is no session of this one's");
    const tester = await askB(await signIn(b, world.users.tester), buildId, sessionId);
    assert.deepEqual([tester.status, tester.body.error?.code], [403, 'role_forbidden']);

    const watchThroughB = async (): Promise<TerminalClient> => {
      const t = await connectTerminal(toNode(await mintWatchTicket(b, watcherOnB, buildId, sessionId), b), b, { size: { cols: 50, rows: 10 } });
      terminals.push(t);
      await t.waitForControl('ready');
      return t;
    };
    const watcher = await watchThroughB();
    const ready = watcher.controls.find((c) => c.type === 'ready');
    assert.equal(ready?.type === 'ready' ? ready.mode : null, 'watch');
    assert.equal(ready?.type === 'ready' ? ready.sessionId : null, sessionId);
    await watcher.waitForControl('size');
    assert.deepEqual(watcher.controls.find((c) => c.type === 'size'), { type: 'size', cols: 100, rows: 30 }, "the owner's PTY size");
    await watcher.waitForOutput(/before-42/);

    // The watcher's connection lives on A, where the session is and its access is enforced.
    const started = await waitForAudit(a, (e) => e.event === 'watch_started' && e.details['sessionId'] === sessionId, { buildId });
    assert.equal(started.userId, world.users.admin.id);
    const watcherRows = (await control(b).get(`/builds/${buildId}/sessions`).expect(200)).body.sessions.filter((r: { userId: string }) => r.userId === world.users.admin.id);
    assert.deepEqual(
      watcherRows.map((r: { node: string }) => r.node),
      ['node-a'],
      'one registration, on the holding node; B gave its own up',
    );

    const marker = `/tmp/porthole-cross-node-watcher-${sessionId}`;
    rmSync(marker, { force: true });
    watcher.type(`touch ${marker}\r`);
    watcher.resize(50, 10);
    owner.type('stty size; echo after-$((7*7))\r');
    await owner.waitForOutput(/after-49/);
    await watcher.waitForOutput(/after-49/);
    assert.match(owner.output(), /[\r\n]30 100\r\n/, "the PTY keeps the owner's size");
    assert.equal(existsSync(marker), false, "the watcher's keys did not run on the VM");
    const ownerBytes = owner.outputBytes();
    await pollUntil('the watcher to have what the owner had', WAIT_MS, async () => watcher.outputBytes().length >= ownerBytes.length);
    assert.deepEqual(watcher.outputBytes().subarray(0, ownerBytes.length), ownerBytes, 'the same bytes, from the start of the session');

    owner.ws.send(JSON.stringify({ type: 'control', userId: world.users.admin.id, mode: 'drive' }));
    await pollUntil('the watcher to be told it drives', WAIT_MS, async () =>
      latestParticipants(watcher).some((p) => p.userId === world.users.admin.id && p.mode === 'drive'),
    );
    watcher.type('echo typed-through-b-$((2+3))\r');
    await owner.waitForOutput(/typed-through-b-5/);

    const closed = await timeToClose(watcher, () => control(b).del(`/apps/app-1/members/${world.users.admin.id}`).expect(204));
    try {
      assert.deepEqual([closed.code, closed.reason], [4001, 'removed from the app'], "A drops the watcher; B hands the page A's code");
      assert.ok(closed.ms < CROSS_NODE_CLOSE_MS, `closed ${closed.ms} ms after the removal`);
      owner.type('echo still-here-$((5*5))\r');
      await owner.waitForOutput(/still-here-25/);
    } finally {
      await control(a).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    }

    // The watcher's browser session signs out (through B): A, which enforces it, drops that watcher.
    const second = await watchThroughB();
    await second.waitForOutput(/still-here-25/);
    const signedOut = await timeToClose(second, () => watcherOnB.post('/auth/logout').set('Origin', b.origin).send({}).expect(204));
    assert.deepEqual([signedOut.code, signedOut.reason], [4001, 'signed out']);
    assert.ok(signedOut.ms < CROSS_NODE_CLOSE_MS, `closed ${signedOut.ms} ms after the sign-out`);

    watcherOnB = await signIn(b, world.users.admin);
    const third = await watchThroughB();
    await third.waitForOutput(/still-here-25/);
    owner.type('exit\r');
    const [ownerClosed, watcherClosed] = await Promise.all([owner.closed, third.closed]);
    assert.equal(ownerClosed.code, 4005, 'the shell ended');
    assert.deepEqual(watcherClosed, ownerClosed, "the owner's end is the relayed watcher's, with its code");
  });

  test('the holding node checks a relayed watcher itself: the session on its build, a member with an allowed role, a live sign-in, its own PORTHOLE_WATCH (issue #16)', async () => {
    await registerBuild('build-watch-gate');
    await registerBuild('build-watch-gate-other');
    const owner = await connectTerminal(toNode(await mintTicket(a, agent, 'build-watch-gate'), a), a);
    terminals.push(owner);
    await owner.waitForControl('ready');
    const key = deriveRelayKey(Buffer.from(shared.PORTHOLE_SECRET_KEY, 'hex'));
    const watcherClaims = (userId: string, buildId = 'build-watch-gate', sessionEpoch = 'not-the-epoch'): RelayClaims => ({
      sessionId: sessionIdOf(owner),
      userId: userId as UserId,
      buildId: buildId as BuildId,
      kind: 'ssh',
      from: 'node-b',
      to: 'node-a',
      watcher: { sessionEpoch, signInId: null },
    });
    const statusOf = async (claims: RelayClaims): Promise<number> => {
      const outcome = await attemptUpgrade({ url: relayUrl(nodeA.url, 'ssh'), protocols: [SSH_SUBPROTOCOL], headers: { authorization: signRelayAssertion(key, claims, new Date()) } });
      if (outcome.opened) outcome.ws.terminate();
      return outcome.opened ? 101 : outcome.status;
    };
    assert.equal(await statusOf(watcherClaims(world.users.admin.id, 'build-watch-gate-other')), 404, 'the session is not on that build');
    assert.equal(await statusOf(watcherClaims(world.users.tester.id)), 403, 'a tester');
    assert.equal(await statusOf(watcherClaims(world.users.outsider.id)), 403, 'not a member');
    assert.equal(await statusOf(watcherClaims(world.users.admin.id)), 403, 'a sign-in that is no longer current');
    const [admin] = await cluster.query<{ session_epoch: string }>('SELECT session_epoch FROM users WHERE id = $1', [world.users.admin.id], new URL(shared.PORTHOLE_DATABASE).pathname.slice(1));
    assert.ok(admin);
    const adminEpoch = admin.session_epoch;
    assert.equal(await statusOf(watcherClaims(world.users.admin.id, 'build-watch-gate', adminEpoch)), 101, 'the same assertion for a current sign-in is admitted');
    const refusals = await waitForAudit(a, (e) => e.event === 'ticket_refused' && e.userId === world.users.outsider.id, { buildId: 'build-watch-gate' });
    assert.equal(refusals.details['stage'], 'redeem');
    owner.type('echo owner-unaffected\r');
    await owner.waitForOutput(/owner-unaffected\r\n/);
    owner.close();
    await owner.closed;

    // A node with PORTHOLE_WATCH=off lets no one watch the sessions it holds, whichever node asks.
    const nodeC = await startGatewayProcess({ ...shared, PORTHOLE_NODE_ID: 'node-c', PORTHOLE_WATCH: 'off' });
    try {
      const c: GatewayAddress = { url: nodeC.url, origin: a.origin, controlToken: a.controlToken };
      const onC = await connectTerminal(toNode(await mintTicket(c, await signIn(c, world.users.developer), 'build-watch-gate'), c), c);
      terminals.push(onC);
      await onC.waitForControl('ready');
      const claims = { ...watcherClaims(world.users.admin.id, 'build-watch-gate', adminEpoch), sessionId: sessionIdOf(onC), to: 'node-c' };
      const outcome = await attemptUpgrade({ url: relayUrl(nodeC.url, 'ssh'), protocols: [SSH_SUBPROTOCOL], headers: { authorization: signRelayAssertion(key, claims, new Date()) } });
      if (outcome.opened) outcome.ws.terminate();
      assert.equal(outcome.opened ? 101 : outcome.status, 403, 'watching is off on the holding node');
      onC.close();
      await onC.closed;
    } finally {
      await nodeC.stop();
    }
  });

  // Last: it stops the database.
  test('a node cut off from the database longer than PORTHOLE_FAIL_CLOSED_SECONDS closes its connections', async () => {
    await registerBuild('build-cutoff');
    const t = await terminalOnB('build-cutoff');
    const started = Date.now();
    await cluster.stop();
    const closed = await t.closed;
    const elapsed = Date.now() - started;
    assert.equal(closed.code, 1001);
    assert.ok(elapsed >= FAIL_CLOSED_SECONDS * 1000 - FAIL_CLOSED_SLACK_MS, `closed after ${elapsed} ms: too early`);
    assert.ok(elapsed <= FAIL_CLOSED_SECONDS * 1000 + FAIL_CLOSED_SLACK_MS, `closed after ${elapsed} ms: too late`);
    assert.ok(nodeB.logs().some((l) => l['event'] === 'cluster_fail_closed'));
  });
});

describe('live view on a single SQLite node', () => {
  let sshd: SshdHandle;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd.stop();
  });

  test('lists the node, user, kind, open time and bytes of each live connection', async () => {
    const gw = await startGateway({ PORTHOLE_NODE_ID: 'solo' });
    try {
      const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
      const agent = await signIn(gw, world.users.owner);
      const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
      await t.waitForControl('ready');
      t.type('echo live-view\r');
      await t.waitForOutput(/live-view\r\n/);
      const { sessions } = (await control(gw).get(`/builds/${world.builds.linuxRunning}/sessions`).expect(200)).body;
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].node, 'solo');
      assert.equal(sessions[0].userId, world.users.owner.id);
      assert.equal(sessions[0].kind, 'ssh');
      assert.ok(sessions[0].bytesToBrowser > 0);
      assert.ok(sessions[0].bytesFromBrowser > 0);
      assert.equal((await request(gw.url).get(`/api/v1/builds/${world.builds.linuxRunning}/sessions`)).status, 401, 'control token required');
      t.close();
      await t.closed;
    } finally {
      await gw.close();
    }
  });
});

async function signedInCookie(gw: GatewayAddress, email: string, password: string): Promise<string> {
  const res = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email, password });
  assert.equal(res.status, 204);
  const cookie = (res.headers['set-cookie'] as unknown as string[] | undefined)?.[0]?.split(';')[0];
  assert.ok(cookie);
  return cookie;
}
