/** The audit trail: rows written by real sign-ins, tickets and terminal sessions against a real sshd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { WebSocket } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, UpgradeRefused } from '../helpers/terminal-client.js';
import { auditEvents, waitForAudit } from '../helpers/ops.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

describe('audit trail', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  });
  after(async () => {
    await gw.close();
    await sshd.stop();
  });

  test('a real terminal session: ticket minted, connection opened, then closed with code, bytes and duration', async () => {
    await registerLinuxBuild(gw, 'build-audit', passwordEndpoint(sshd));
    const agent = await signIn(gw, world.users.developer);
    const started = Date.now();
    const t = await connectTerminal(await mintTicket(gw, agent, 'build-audit'), gw);
    await t.waitForControl('ready');
    const typed = 'echo audit-$((2+3))\r';
    t.type(typed);
    await t.waitForOutput(/[\r\n]audit-5\r\n/);
    t.ws.close(1000, 'done');
    await t.closed;
    const elapsed = Date.now() - started;

    const closed = await waitForAudit(gw, (e) => e.event === 'connection_closed', { buildId: 'build-audit' });
    const rows = await auditEvents(gw, { buildId: 'build-audit' });
    const opened = rows.find((e) => e.event === 'connection_opened');
    const minted = rows.find((e) => e.event === 'ticket_minted');
    assert.ok(opened && minted);
    assert.ok(minted.id < opened.id && opened.id < closed.id, 'newest first, in the order things happened');
    assert.deepEqual(rows.map((e) => e.event).slice(0, 3), ['connection_closed', 'connection_opened', 'ticket_minted']);
    assert.equal(minted.userId, world.users.developer.id);
    assert.deepEqual(minted.details, { kind: 'ssh', viewOnly: false });
    assert.equal(opened.userId, world.users.developer.id);
    assert.equal(opened.details['kind'], 'ssh');
    assert.equal(opened.details['connectionId'], closed.details['connectionId']);
    assert.equal(closed.userId, world.users.developer.id);
    assert.equal(closed.buildId, 'build-audit');
    assert.equal(closed.details['kind'], 'ssh');
    assert.equal(closed.details['closedBy'], 'browser');
    assert.equal(closed.details['closeCode'], 1000);
    assert.equal(closed.details['browserCloseCode'], 1000);
    // The browser's own reason ("done") is its choice, not the gateway's, so it is not kept.
    assert.equal(closed.details['reason'], 'closed by the browser');
    assert.equal(closed.details['bytesFromBrowser'], Buffer.byteLength(typed));
    assert.equal(closed.details['bytesToBrowser'], t.outputBytes().length);
    const duration = Number(closed.details['durationMs']);
    assert.ok(duration > 0 && duration <= elapsed, `duration ${duration} ms within the ${elapsed} ms the test took`);
    assert.ok(Math.abs(Date.parse(closed.at) - Date.now()) < 60_000);

    const text = JSON.stringify(rows);
    assert.equal(text.includes('audit-5'), false, 'no terminal content');
    assert.equal(text.includes(sshd.passwordUser?.password ?? '?'), false, 'no VM password');
  });

  test('sign-ins: failures with the email tried, successes with the user', async () => {
    const { owner } = world.users;
    const failed = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: owner.email, password: 'not-the-password' });
    assert.equal(failed.status, 401);
    await signIn(gw, owner);
    // Failed sign-ins are counted per client address and written when their window ends (or now, at a flush).
    await gw.app.audit.flush();
    const rows = await auditEvents(gw);
    const failure = rows.find((e) => e.event === 'login_failed');
    assert.deepEqual({ ...failure?.details, firstAt: typeof failure?.details['firstAt'], lastAt: typeof failure?.details['lastAt'] }, {
      email: owner.email,
      clientAddress: '127.0.0.1',
      count: 1,
      windowSeconds: 60,
      firstAt: 'string',
      lastAt: 'string',
    });
    assert.equal(JSON.stringify(rows).includes('not-the-password'), false);
    const success = await waitForAudit(gw, (e) => e.event === 'login_succeeded', { userId: owner.id });
    assert.equal(success.buildId, null);
  });

  test('ticket refusals: at the mint (role, membership, window) and at the upgrade (reuse, origin, missing)', async () => {
    const tester = await signIn(gw, world.users.tester);
    assert.equal((await tester.post('/api/v1/builds/build-linux/connections').set('Origin', gw.origin).send({ kind: 'ssh' })).status, 403);
    const outsider = await signIn(gw, world.users.outsider);
    assert.equal((await outsider.post('/api/v1/builds/build-linux/connections').set('Origin', gw.origin).send({ kind: 'ssh' })).status, 404);
    const developer = await signIn(gw, world.users.developer);
    assert.equal((await developer.post('/api/v1/builds/build-old/connections').set('Origin', gw.origin).send({ kind: 'ssh' })).status, 410);

    const ticket = await mintTicket(gw, developer, 'build-linux');
    const first = await connectTerminal(ticket, gw);
    await assert.rejects(connectTerminal(ticket, gw), (error: unknown) => error instanceof UpgradeRefused && error.status === 401);
    first.close();
    await assert.rejects(connectTerminal(await mintTicket(gw, developer, 'build-linux'), gw, { origin: 'https://evil.example' }), UpgradeRefused);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(ticket.url, [ticket.protocol], { headers: { Origin: gw.origin } });
        ws.once('open', resolve);
        ws.once('unexpected-response', (_req, res) => reject(new UpgradeRefused(res.statusCode ?? 0, '')));
        ws.once('error', reject);
      }),
      UpgradeRefused,
    );

    // Refusals before a ticket names a user are counted per client address and written per window.
    await gw.app.audit.flush();
    const refusals = (await auditEvents(gw, { limit: 1000 })).filter((e) => e.event === 'ticket_refused');
    const seen = (stage: string, reason: string): boolean => refusals.some((e) => e.details['stage'] === stage && e.details['reason'] === reason);
    assert.ok(seen('mint', 'role_forbidden'));
    assert.ok(seen('mint', 'not_found'));
    assert.ok(seen('mint', 'window_closed'));
    assert.ok(seen('redeem', 'unknown_or_used'));
    assert.ok(seen('redeem', 'forbidden_origin'));
    assert.ok(seen('redeem', 'missing_ticket'));
    const byTester = refusals.find((e) => e.details['reason'] === 'role_forbidden');
    assert.equal(byTester?.userId, world.users.tester.id);
    assert.equal(byTester?.buildId, 'build-linux');
    const text = JSON.stringify(refusals);
    assert.equal(text.includes(ticket.ticket), false, 'no ticket in the trail');
    assert.equal(text.includes(TICKET_SUBPROTOCOL_PREFIX), false);
  });

  test('reveal, host key pinned and mismatched, revocation, role change and window close', async () => {
    const owner = await signIn(gw, world.users.owner);
    assert.equal((await owner.get('/api/v1/builds/build-linux/remote-access')).status, 200);
    const revealed = await waitForAudit(gw, (e) => e.event === 'native_credentials_revealed', { userId: world.users.owner.id });
    assert.deepEqual(revealed.details, { role: 'owner' });
    assert.equal(revealed.buildId, 'build-linux');

    const { hostKey: _registered, ...unpinned } = passwordEndpoint(sshd);
    await registerLinuxBuild(gw, 'build-pin', unpinned);
    const pinning = await connectTerminal(await mintTicket(gw, owner, 'build-pin'), gw);
    await pinning.waitForControl('ready');
    const pinned = await waitForAudit(gw, (e) => e.event === 'host_key_pinned', { buildId: 'build-pin' });
    assert.deepEqual(pinned.details, { fingerprint: sshd.hostKeyFingerprint });

    // Revoking the build ends the live terminal; the row says how many connections it ended.
    await control(gw).post('/builds/build-pin/revoke');
    assert.equal((await pinning.closed).code, 4000);
    const revoked = await waitForAudit(gw, (e) => e.event === 'access_revoked', { buildId: 'build-pin' });
    assert.equal(revoked.details['connectionsEnded'], 1);
    const closedByRevoke = await waitForAudit(gw, (e) => e.event === 'connection_closed', { buildId: 'build-pin' });
    assert.equal(closedByRevoke.details['closeCode'], 4000);
    assert.equal(closedByRevoke.details['closedBy'], 'gateway');

    await registerLinuxBuild(gw, 'build-impostor', { ...passwordEndpoint(sshd), hostKey: 'SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM' });
    const impostor = await connectTerminal(await mintTicket(gw, owner, 'build-impostor'), gw);
    assert.equal((await impostor.closed).code, 4004);
    const mismatch = await waitForAudit(gw, (e) => e.event === 'host_key_mismatch', { buildId: 'build-impostor' });
    assert.deepEqual(mismatch.details, { expected: 'SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM', presented: sshd.hostKeyFingerprint });

    const startedAt = new Date(Date.now() - 2 * 60 * 60_000).toISOString();
    await control(gw).put('/builds/build-ending', { appId: 'app-1', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh: passwordEndpoint(sshd) } });
    const ending = await connectTerminal(await mintTicket(gw, owner, 'build-ending'), gw);
    await ending.waitForControl('ready');
    const longAgo = new Date(Date.now() - 60 * 60_000).toISOString();
    assert.equal((await control(gw).post('/builds/build-ending/finish', { finishedAt: longAgo })).status, 200);
    assert.equal((await ending.closed).code, 4000);
    const windowClosed = await waitForAudit(gw, (e) => e.event === 'window_closed', { buildId: 'build-ending' });
    assert.deepEqual(windowClosed.details, { connectionsEnded: 1 });

    const admin = await signIn(gw, world.users.admin);
    const demotedTerminal = await connectTerminal(await mintTicket(gw, admin, 'build-linux'), gw);
    await demotedTerminal.waitForControl('ready');
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'tester' });
    assert.equal((await demotedTerminal.closed).code, 4001);
    const demoted = await waitForAudit(gw, (e) => e.event === 'access_revoked', { userId: world.users.admin.id });
    assert.deepEqual(demoted.details, { appId: 'app-1', reason: 'role no longer allows remote access', connectionsEnded: 1 });
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    const noise = (await auditEvents(gw, { limit: 1000 })).filter((e) => e.event === 'access_revoked' && e.userId === world.users.tester.id);
    assert.deepEqual(noise, [], 'registering a tester took nothing away, so it is no revocation');
  });

  test('the audit API: control token, filters, newest first, paging and clear errors', async () => {
    assert.equal((await request(gw.url).get('/api/v1/audit')).status, 401);
    assert.equal((await request(gw.url).get('/api/v1/audit').set('Authorization', 'Bearer wrong-token-0123456789')).status, 401);

    const all = await auditEvents(gw, { limit: 1000 });
    assert.ok(all.length > 10);
    assert.deepEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort((a, b) => b - a), 'newest first');

    const forBuild = await auditEvents(gw, { buildId: 'build-linux' });
    assert.ok(forBuild.length > 0 && forBuild.every((e) => e.buildId === 'build-linux'));
    const forUser = await auditEvents(gw, { userId: world.users.tester.id, buildId: 'build-linux' });
    assert.ok(forUser.length > 0 && forUser.every((e) => e.userId === world.users.tester.id && e.buildId === 'build-linux'));
    assert.deepEqual(await auditEvents(gw, { since: new Date(Date.now() + 60_000).toISOString() }), []);
    const middle = all[Math.floor(all.length / 2)];
    assert.ok(middle);
    const recent = await auditEvents(gw, { since: middle.at, limit: 1000 });
    assert.ok(recent.every((e) => Date.parse(e.at) >= Date.parse(middle.at)));

    const page = await request(gw.url).get('/api/v1/audit').query({ limit: 3 }).set('Authorization', `Bearer ${gw.controlToken}`);
    assert.equal(page.body.events.length, 3);
    assert.equal(page.body.next, page.body.events[2].id);
    const older = await auditEvents(gw, { limit: 3, before: page.body.next as number });
    assert.deepEqual(older.map((e) => e.id), all.slice(3, 6).map((e) => e.id));

    for (const [query, field] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 5000 }, 'limit'],
      [{ since: 'yesterday' }, 'since'],
      [{ buildId: '../etc' }, 'buildId'],
      [{ colour: 'blue' }, 'colour'],
    ] as const) {
      const res = await request(gw.url).get('/api/v1/audit').query(query).set('Authorization', `Bearer ${gw.controlToken}`);
      assert.equal(res.status, 400, JSON.stringify(query));
      assert.equal(res.body.error.code, 'invalid_field');
      assert.match(res.body.error.message, new RegExp(`^${field}`));
    }
  });
});
