/**
 * Issue #22: identity changes reach sign-in sessions. Deleting a user, changing their password
 * and signing out end what they should: cookies, embed credentials, outstanding tickets and live
 * terminals. Anonymous single sign-on starts leave no long-lived rows behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type SeededUser, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, type TerminalClient } from '../helpers/terminal-client.js';
import { attemptUpgrade, ticketProtocols } from '../helpers/upgrade-probe.js';
import { exchange, exchangeOk, launchOk, mintEmbedTicket, parseLaunchUrl } from '../helpers/embed.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { SSH_SUBPROTOCOL } from '../../shared/src/protocol/ssh-v1.js';
import { CloseCode } from '../../shared/src/protocol/close-codes.js';

const DASHBOARD_ORIGIN = 'https://dashboard.example';
/** The longest a pre-login (anonymous) session row may live: docs/security.md. */
const PRE_LOGIN_MAX_MS = 10 * 60_000;
/** Anonymous single sign-on starts in the test (a crawler or a script would send thousands). */
const ANONYMOUS_STARTS = 20;
/** Bounds the tests that wait for a live terminal to be closed (they wait on the close event). */
const LIVE_WAIT_MS = 30_000;

describe('identity changes reach sign-in sessions (issue #22)', () => {
  let sshd: SshdHandle;
  let provider: TestOidcProvider;
  let gw: TestGateway;
  let world: World;
  let db: Database.Database;

  before(async () => {
    [sshd, provider] = await Promise.all([startSshd(), startOidcProvider()]);
    gw = await startGateway({
      PORTHOLE_EMBED_ORIGINS: DASHBOARD_ORIGIN,
      PORTHOLE_OIDC_ISSUER: provider.issuer,
      PORTHOLE_OIDC_CLIENT_ID: provider.clientId,
      PORTHOLE_OIDC_CLIENT_SECRET: provider.clientSecret,
    });
    provider.setRedirectUri(`${gw.url}/auth/oidc/callback`);
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    db = new Database(gw.databasePath, { readonly: true, fileMustExist: true });
  });
  after(async () => {
    db.close();
    await gw.close();
    await Promise.all([sshd.stop(), provider.stop()]);
  });

  /** A fresh developer of app-1, so tests that delete or change a user do not disturb each other. */
  async function freshDeveloper(id: string): Promise<SeededUser> {
    const user = { id, email: `${id}@example.test`, password: `pw-${id}-1` };
    const api = control(gw);
    assert.equal((await api.put(`/users/${id}`, { email: user.email, name: id, password: user.password })).status, 201);
    assert.equal((await api.put(`/apps/app-1/members/${id}`, { role: 'developer' })).status, 201);
    return user;
  }

  async function whoAmI(agent: TestAgent): Promise<number> {
    return (await agent.get(`/api/v1/builds/${world.builds.linuxRunning}/window`)).status;
  }

  async function liveTerminal(agent: TestAgent): Promise<TerminalClient> {
    const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
    await t.waitForControl('ready');
    return t;
  }

  async function upgradeWith(ticket: string): Promise<{ opened: boolean; status: number }> {
    const outcome = await attemptUpgrade({ url: `${gw.url.replace('http', 'ws')}/ws/ssh?build=${world.builds.linuxRunning}`, origin: gw.origin, protocols: ticketProtocols(SSH_SUBPROTOCOL, ticket) });
    if (outcome.opened) {
      outcome.ws.close();
      return { opened: true, status: 101 };
    }
    return { opened: false, status: outcome.status };
  }

  test('a deleted user id registered again for another person does not inherit the old cookie', async () => {
    const first = await freshDeveloper('reused-id');
    const agent = await signIn(gw, first);
    assert.equal(await whoAmI(agent), 200);
    assert.equal((await control(gw).del('/users/reused-id')).status, 204);
    // The orchestrator hands the id to someone else, who gets the same role, before the old browser calls again.
    const api = control(gw);
    assert.equal((await api.put('/users/reused-id', { email: 'someone-else@example.test', name: 'Someone else', password: 'pw-someone-else' })).status, 201);
    assert.equal((await api.put('/apps/app-1/members/reused-id', { role: 'developer' })).status, 201);
    assert.equal(await whoAmI(agent), 401, 'the old cookie does not sign in as the new person');
  });

  test('a password change through the control API ends the sign-in sessions and live terminals; a replayed PUT does not', { timeout: LIVE_WAIT_MS }, async () => {
    const user = await freshDeveloper('pw-changer');
    const agent = await signIn(gw, user);
    // Replaying the same PUT (the orchestrator retries after timeouts) changes nothing.
    assert.equal((await control(gw).put(`/users/${user.id}`, { email: user.email, name: user.id, password: user.password })).status, 200);
    assert.equal(await whoAmI(agent), 200, 'an unchanged password keeps the session');
    const t = await liveTerminal(agent);
    assert.equal((await control(gw).put(`/users/${user.id}`, { email: user.email, name: user.id, password: 'pw-changed' })).status, 200);
    assert.equal(await whoAmI(agent), 401, 'the old session is signed out');
    const closed = await t.closed;
    assert.equal(closed.code, CloseCode.accessRevoked);
    // The new password works.
    assert.equal(await whoAmI(await signIn(gw, { ...user, password: 'pw-changed' })), 200);
  });

  test('a copy of the cookie is useless after sign-out', async () => {
    const user = await freshDeveloper('copied-cookie');
    const res = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: user.email, password: user.password });
    const cookie = (res.get('Set-Cookie') ?? []).find((c) => c.startsWith('porthole.sid='))?.split(';')[0];
    assert.ok(cookie, 'signed in');
    const windowWith = (): request.Test => request(gw.url).get(`/api/v1/builds/${world.builds.linuxRunning}/window`).set('Cookie', cookie);
    assert.equal((await windowWith()).status, 200);
    assert.equal((await request(gw.url).post('/auth/logout').set('Origin', gw.origin).set('Cookie', cookie).send({})).status, 204);
    assert.equal((await windowWith()).status, 401, 'the copy kept by someone else is signed out too');
  });

  test('embed launches and credentials stop working when the user is deleted or their password changes', async () => {
    const user = await freshDeveloper('embedded');
    const body = { userId: user.id, buildId: world.builds.linuxRunning, kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN };
    const credential = (await exchangeOk(gw, (await launchOk(gw, body)).url)).credential;
    const pendingLaunch = parseLaunchUrl((await launchOk(gw, body)).url);
    assert.equal((await mintEmbedTicket(gw, credential)).status, 201);
    const ticket = (await mintEmbedTicket(gw, credential)).body as { ticket: string };

    assert.equal((await control(gw).put(`/users/${user.id}`, { email: user.email, name: user.id, password: 'pw-embedded-2' })).status, 200);
    assert.equal((await mintEmbedTicket(gw, credential)).status, 401, 'the credential died with the password');
    assert.equal((await exchange(gw, { launch: pendingLaunch.token, kind: pendingLaunch.kind, parentOrigin: pendingLaunch.parentOrigin })).status, 401, 'so did the launch');
    const upgrade = await upgradeWith(ticket.ticket);
    assert.equal(upgrade.opened, false, 'and the ticket it had minted');

    // A credential issued after the change works until the user is deleted and the id reused.
    const second = (await exchangeOk(gw, (await launchOk(gw, body)).url)).credential;
    assert.equal((await mintEmbedTicket(gw, second)).status, 201);
    assert.equal((await control(gw).del(`/users/${user.id}`)).status, 204);
    await freshDeveloper(user.id);
    assert.equal((await mintEmbedTicket(gw, second)).status, 401, 'the new holder of the id does not inherit it');
  });

  test('signing out ends this browser session’s terminals and tickets, not the user’s other browsers', { timeout: LIVE_WAIT_MS }, async () => {
    const user = await freshDeveloper('signs-out');
    const laptop = await signIn(gw, user);
    const desktop = await signIn(gw, user);
    const [onLaptop, onDesktop] = await Promise.all([liveTerminal(laptop), liveTerminal(desktop)]);
    const unused = await mintTicket(gw, laptop, world.builds.linuxRunning);

    assert.equal((await laptop.post('/auth/logout').set('Origin', gw.origin).send({})).status, 204);
    const closed = await onLaptop.closed;
    assert.equal(closed.code, CloseCode.accessRevoked);
    assert.equal(closed.reason, 'signed out');
    const upgrade = await upgradeWith(unused.ticket);
    assert.deepEqual(upgrade, { opened: false, status: 401 }, 'a ticket minted before sign-out does not open');

    onDesktop.type('echo still-$((20+2))\r');
    await onDesktop.waitForOutput(/[\r\n]still-22\r\n/);
    onDesktop.close();
  });

  test(`${ANONYMOUS_STARTS} anonymous single sign-on starts leave no row that outlives ${PRE_LOGIN_MAX_MS / 60_000} minutes`, async () => {
    const before = Date.now();
    const starts = await Promise.all(Array.from({ length: ANONYMOUS_STARTS }, () => request(gw.url).get('/auth/oidc?next=/')));
    for (const res of starts) assert.equal(res.status, 302, 'each start is sent to the provider');
    const rows = db.prepare("SELECT expires_at FROM sessions WHERE expires_at > ? AND json_extract(data, '$.passport.user') IS NULL").all(before) as { expires_at: number }[];
    assert.ok(rows.length >= ANONYMOUS_STARTS, 'the starts keep their state (for the provider round trip)');
    const longest = Math.max(...rows.map((r) => Number(r.expires_at) - before));
    console.log(`anonymous starts: ${rows.length} rows, longest lives ${Math.round(longest / 1000)} s`);
    assert.ok(longest <= PRE_LOGIN_MAX_MS + 60_000, `no pre-login row lives longer than ${PRE_LOGIN_MAX_MS} ms (longest: ${longest} ms)`);
  });

  test('a completed sign-in still lasts a working day', async () => {
    const user = await freshDeveloper('working-day');
    const before = Date.now();
    await signIn(gw, user);
    const row = db.prepare('SELECT MAX(expires_at) AS at FROM sessions').get() as { at: number };
    assert.ok(Number(row.at) - before >= 11 * 60 * 60_000, 'a signed-in session lives about 12 hours');
  });
});
