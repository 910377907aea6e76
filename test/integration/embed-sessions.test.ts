/**
 * The launch API, the embed page's exchange and its credential, against a real gateway and sshd:
 * validation, every refusal, replay and expiry (the gateway's clock is moved, nothing waits), the
 * framing headers, the SDK, and an embed-minted terminal connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, type Ticket } from '../helpers/terminal-client.js';
import { waitForAudit } from '../helpers/ops.js';
import { exchange, exchangeOk, launch, launchOk, mintEmbedTicket, parseLaunchUrl } from '../helpers/embed.js';

const DASHBOARD = 'https://ci.example.com';
const LOCAL_DASHBOARD = 'http://localhost:7000';
const LAUNCH_TTL_MS = 60_000;

describe('embedding: launch API, exchange and credential', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway({ PORTHOLE_EMBED_ORIGINS: `${DASHBOARD}, ${LOCAL_DASHBOARD}` });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  });
  after(async () => {
    await gw.close();
    await sshd.stop();
  });

  const developerLaunch = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    userId: world.users.developer.id,
    buildId: world.builds.linuxRunning,
    kind: 'ssh',
    parentOrigin: DASHBOARD,
    ...overrides,
  });

  test('201: a single-use launch URL valid for 60 s, the token only in the fragment', async () => {
    const before = Date.now();
    const res = await launch(gw, developerLaunch());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.get('Cache-Control'), 'no-store');
    assert.deepEqual(Object.keys(res.body as object).sort(), ['expiresAt', 'url']);
    const url = new URL(res.body.url as string);
    assert.equal(url.origin, gw.origin);
    assert.equal(url.pathname, '/embed/terminal');
    assert.deepEqual([...url.searchParams.keys()], ['parent']);
    assert.equal(url.searchParams.get('parent'), DASHBOARD);
    const token = new URLSearchParams(url.hash.slice(1)).get('launch') ?? '';
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const ttl = Date.parse(res.body.expiresAt as string) - before;
    assert.ok(ttl >= LAUNCH_TTL_MS - 1_000 && ttl <= LAUNCH_TTL_MS + 1_000, `expires in ~60 s (${ttl} ms)`);
    const screen = await launchOk(gw, developerLaunch({ buildId: world.builds.macRunning, kind: 'vnc', viewOnly: true }));
    assert.equal(new URL(screen.url).pathname, '/embed/screen');
    assert.equal(gw.rawLogs().includes(token), false, 'the launch token is never logged');
    assert.ok(gw.logs().some((l) => l['event'] === 'embed_launch_minted' && l['parentOrigin'] === DASHBOARD));
  });

  test('401 without the control token, or with a wrong one', async () => {
    const none = await request(gw.url).post('/api/v1/embed-sessions').send(developerLaunch());
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthenticated');
    const wrong = await request(gw.url).post('/api/v1/embed-sessions').set('Authorization', 'Bearer not-the-token-at-all').send(developerLaunch());
    assert.equal(wrong.status, 401);
  });

  test('503 when the control API is disabled', async () => {
    const off = await startGateway({ PORTHOLE_CONTROL_TOKEN: '', PORTHOLE_EMBED_ORIGINS: DASHBOARD });
    try {
      const res = await request(off.url).post('/api/v1/embed-sessions').set('Authorization', 'Bearer anything-at-all-here').send(developerLaunch());
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'control_api_disabled');
    } finally {
      await off.close();
    }
  });

  test('400 names the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...developerLaunch(), userId: undefined }, /^userId: is required$/],
      [{ ...developerLaunch(), buildId: 'no spaces' }, /^buildId: must be 1-64 characters/],
      [{ ...developerLaunch(), kind: 'rdp' }, /^kind: /],
      [{ ...developerLaunch(), parentOrigin: undefined }, /^parentOrigin: is required$/],
      [{ ...developerLaunch(), viewOnly: 'yes' }, /^viewOnly: /],
      [{ ...developerLaunch(), viewOnly: true }, /^viewOnly: only screens can be view-only$/],
      [{ ...developerLaunch(), host: '10.0.0.1' }, /^host: unknown field$/],
      [{ ...developerLaunch(), mode: 'watch' }, /^sessionId: a watch view names the session to watch$/],
      [{ ...developerLaunch(), sessionId: '0123456789abcdef' }, /^mode: a sessionId launches a watch view/],
      [{ ...developerLaunch(), mode: 'watch', sessionId: '../../x' }, /^sessionId: /],
      [{ ...developerLaunch(), mode: 'spy', sessionId: '0123456789abcdef' }, /^mode: /],
      [{ ...developerLaunch(), buildId: world.builds.linuxRunning, kind: 'vnc' }, /^kind: vnc is only available on macOS builds/],
    ];
    for (const [body, message] of cases) {
      const res = await launch(gw, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_field');
      assert.match(res.body.error.message as string, message);
    }
    const notJson = await control(gw).post('/embed-sessions').set('Content-Type', 'text/plain').send('userId=u');
    assert.equal(notJson.status, 415);
  });

  test('403 when parentOrigin is not in PORTHOLE_EMBED_ORIGINS (exact match)', async () => {
    for (const parentOrigin of ['https://evil.example', `${DASHBOARD}/`, 'https://CI.example.com', 'https://ci.example.com:443', 'http://ci.example.com', '*', 'null']) {
      const res = await launch(gw, developerLaunch({ parentOrigin }));
      assert.equal(res.status, 403, parentOrigin);
      assert.equal(res.body.error.code, 'forbidden_origin');
      assert.match(res.body.error.message as string, /^parentOrigin: /);
    }
  });

  test('403 for a tester, 404 for unknown users and builds and non-members, 410 once the window closed', async () => {
    const tester = await launch(gw, developerLaunch({ userId: world.users.tester.id }));
    assert.equal(tester.status, 403);
    assert.equal(tester.body.error.code, 'role_forbidden');

    const cases: [Record<string, unknown>, RegExp][] = [
      [developerLaunch({ userId: 'nobody' }), /^user nobody not found$/],
      [developerLaunch({ buildId: 'no-such-build' }), /^build no-such-build not found$/],
      [developerLaunch({ userId: world.users.outsider.id }), /is not a member of app app-1$/],
    ];
    for (const [body, message] of cases) {
      const res = await launch(gw, body);
      assert.equal(res.status, 404, JSON.stringify(body));
      assert.equal(res.body.error.code, 'not_found');
      assert.match(res.body.error.message as string, message);
    }

    const closed = await launch(gw, developerLaunch({ buildId: world.builds.finishedLongAgo }));
    assert.equal(closed.status, 410);
    assert.equal(closed.body.error.code, 'window_closed');
  });

  test('embedding is off while PORTHOLE_EMBED_ORIGINS is empty', async () => {
    const off = await startGateway();
    try {
      await seedWorld(off);
      const res = await launch(off, developerLaunch());
      assert.equal(res.status, 403);
      assert.match(res.body.error.message as string, /embedding is disabled/);
      const page = await request(off.url).get(`/embed/terminal?parent=${encodeURIComponent(DASHBOARD)}`);
      assert.equal(page.status, 403);
      assert.match(page.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
    } finally {
      await off.close();
    }
  });

  test('the exchange gives a credential once: a replayed launch is refused', async () => {
    const { url } = await launchOk(gw, developerLaunch());
    const { token, parentOrigin, kind } = parseLaunchUrl(url);
    const first = await exchange(gw, { launch: token, kind, parentOrigin });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.get('Set-Cookie'), undefined, 'no cookie is set');
    assert.equal(first.body.buildId, world.builds.linuxRunning);
    assert.equal(first.body.kind, 'ssh');
    assert.equal(first.body.parentOrigin, DASHBOARD);
    assert.equal(first.body.viewOnly, false);
    assert.deepEqual(first.body.window, { closesAt: null, remainingMs: null, open: true, extendStepMinutes: null, canExtend: false });
    assert.match(first.body.credential as string, /^[A-Za-z0-9_-]{43}$/);

    const replay = await exchange(gw, { launch: token, kind, parentOrigin });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'invalid_ticket');
    assert.match(replay.body.error.message as string, /already opened or its link has expired/);
    assert.equal(gw.rawLogs().includes(first.body.credential as string), false, 'the credential is never logged');
  });

  test('an expired launch is refused (the gateway clock moves past 60 s)', async () => {
    const { url } = await launchOk(gw, developerLaunch());
    const { token, parentOrigin, kind } = parseLaunchUrl(url);
    gw.setNow(new Date(Date.now() + LAUNCH_TTL_MS + 1_000));
    try {
      const res = await exchange(gw, { launch: token, kind, parentOrigin });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'invalid_ticket');
    } finally {
      gw.setNow(null);
    }
    assert.ok(gw.logs().some((l) => l['event'] === 'embed_launch_refused' && l['reason'] === 'expired'));
  });

  test('the exchange must come from the gateway\'s own origin, for the launch\'s page; a misused launch is burnt', async () => {
    const { url } = await launchOk(gw, developerLaunch());
    const { token, parentOrigin, kind } = parseLaunchUrl(url);
    const crossSite = await request(gw.url).post('/api/v1/embed/credentials').set('Origin', DASHBOARD).send({ launch: token, kind, parentOrigin });
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.body.error.code, 'forbidden_origin');

    const otherParent = await exchange(gw, { launch: token, kind, parentOrigin: LOCAL_DASHBOARD });
    assert.equal(otherParent.status, 403);
    assert.equal(otherParent.body.error.code, 'forbidden_origin');
    const afterMisuse = await exchange(gw, { launch: token, kind, parentOrigin });
    assert.equal(afterMisuse.status, 401, 'the launch was consumed by the misuse');

    const second = parseLaunchUrl((await launchOk(gw, developerLaunch())).url);
    const otherKind = await exchange(gw, { launch: second.token, kind: 'vnc', parentOrigin });
    assert.equal(otherKind.status, 403);

    const bad = await exchange(gw, { launch: '', kind, parentOrigin });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_field');
  });

  test('the policy is checked again at launch: a new tester role gives 403, a closed window 410', async () => {
    await control(gw).put('/builds/embed-policy', {
      appId: 'app-1',
      stack: 'linux',
      status: 'running',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      remoteAccess: { ssh: passwordEndpoint(sshd) },
    });
    const forAdmin = await launchOk(gw, developerLaunch({ userId: world.users.admin.id, buildId: 'embed-policy' }));
    const forDeveloper = await launchOk(gw, developerLaunch({ buildId: 'embed-policy' }));
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'tester' });
    try {
      const demoted = parseLaunchUrl(forAdmin.url);
      const res = await exchange(gw, { launch: demoted.token, kind: demoted.kind, parentOrigin: demoted.parentOrigin });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'role_forbidden');
    } finally {
      await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    }
    await control(gw).post('/builds/embed-policy/revoke');
    const revoked = parseLaunchUrl(forDeveloper.url);
    const res = await exchange(gw, { launch: revoked.token, kind: revoked.kind, parentOrigin: revoked.parentOrigin });
    assert.equal(res.status, 410);
    assert.equal(res.body.error.code, 'window_closed');
  });

  test('the credential mints tickets for its build only, with the policy checked on every mint', async () => {
    await control(gw).put('/builds/embed-mint', {
      appId: 'app-1',
      stack: 'linux',
      status: 'running',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      remoteAccess: { ssh: passwordEndpoint(sshd) },
    });
    const session = await exchangeOk(gw, (await launchOk(gw, developerLaunch({ buildId: 'embed-mint' }))).url);
    const minted = await mintEmbedTicket(gw, session.credential);
    assert.equal(minted.status, 201, JSON.stringify(minted.body));
    assert.match(minted.body.url as string, /\/ws\/ssh\?build=embed-mint$/);
    assert.equal(minted.body.protocol, 'porthole.ssh.v1');

    const missing = await request(gw.url).post('/api/v1/embed/connections').set('Origin', gw.origin);
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, 'unauthenticated');
    const forged = await mintEmbedTicket(gw, 'A'.repeat(43));
    assert.equal(forged.status, 401);
    const crossSite = await request(gw.url).post('/api/v1/embed/connections').set('Origin', DASHBOARD).set('Authorization', `Bearer ${session.credential}`);
    assert.equal(crossSite.status, 403);
    // A session cookie is no substitute for the credential.
    const signedIn = await signIn(gw, world.users.developer);
    const cookieOnly = await signedIn.post('/api/v1/embed/connections').set('Origin', gw.origin);
    assert.equal(cookieOnly.status, 401);

    const window = await request(gw.url).get('/api/v1/embed/window').set('Authorization', `Bearer ${session.credential}`);
    assert.equal(window.status, 200);
    assert.deepEqual(window.body, { closesAt: null, remainingMs: null, open: true, extendStepMinutes: null, canExtend: false });

    await control(gw).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'tester' });
    try {
      const demoted = await mintEmbedTicket(gw, session.credential);
      assert.equal(demoted.status, 403);
      assert.equal(demoted.body.error.code, 'role_forbidden');
    } finally {
      await control(gw).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'developer' });
    }
    await control(gw).post('/builds/embed-mint/revoke');
    const closed = await mintEmbedTicket(gw, session.credential);
    assert.equal(closed.status, 410);
  });

  test('the credential expires when the build\'s window closes', async () => {
    await control(gw).put('/builds/embed-expiry', {
      appId: 'app-1',
      stack: 'linux',
      status: 'running',
      startedAt: new Date(Date.now() - 30 * 60_000).toISOString(),
      remoteAccess: { ssh: passwordEndpoint(sshd) },
    });
    // Finished 9 minutes ago: with the 10-minute grace the window closes in a minute.
    const finish = await control(gw).post('/builds/embed-expiry/finish', { finishedAt: new Date(Date.now() - 9 * 60_000).toISOString() });
    assert.equal(finish.status, 200, JSON.stringify(finish.body));
    const session = await exchangeOk(gw, (await launchOk(gw, developerLaunch({ buildId: 'embed-expiry' }))).url);
    const closesAt = Date.parse(session.window.closesAt ?? '');
    assert.equal(Date.parse(session.expiresAt), closesAt, 'the credential lives exactly as long as the window');
    gw.setNow(new Date(closesAt + 1));
    try {
      const res = await mintEmbedTicket(gw, session.credential);
      assert.equal(res.status, 401);
      assert.match(res.body.error.message as string, /has ended/);
    } finally {
      gw.setNow(null);
    }
  });

  test('an embed-minted ticket opens the terminal from the gateway\'s origin; revoking closes it with 4000', async () => {
    await control(gw).put('/builds/embed-live', {
      appId: 'app-1',
      stack: 'linux',
      status: 'running',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      remoteAccess: { ssh: passwordEndpoint(sshd) },
    });
    const session = await exchangeOk(gw, (await launchOk(gw, developerLaunch({ buildId: 'embed-live' }))).url);
    const ticket = (await mintEmbedTicket(gw, session.credential)).body as Ticket;
    const terminal = await connectTerminal(ticket, gw);
    await terminal.waitForControl('ready');
    terminal.type('echo "embed-$((40+2))"\r');
    await terminal.waitForOutput(/embed-42\r\n/);
    await control(gw).post('/builds/embed-live/revoke');
    assert.equal((await terminal.closed).code, 4000);

    const stale = (await mintEmbedTicket(gw, session.credential)).status;
    assert.equal(stale, 410);
  });

  test("an embedded terminal resumes its session through the credential, as the page does after a drop (issue #15)", async () => {
    const session = await exchangeOk(gw, (await launchOk(gw, developerLaunch())).url);
    const first = await connectTerminal((await mintEmbedTicket(gw, session.credential).send({})).body as Ticket, gw);
    const ready = await first.waitForControl('ready');
    assert.ok(ready.type === 'ready');
    first.type('echo "before-$((50+1))"\r');
    await first.waitForOutput(/before-51\r\n/);
    first.ws.terminate();
    await first.closed;
    await waitForAudit(gw, (e) => e.event === 'session_detached' && e.details['connectionId'] === ready.sessionId);
    const again = await mintEmbedTicket(gw, session.credential).send({ sessionId: ready.sessionId });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const back = await connectTerminal(again.body as Ticket, gw, { resumeFrom: first.outputBytes().length });
    const resumed = await back.waitForControl('resumed');
    assert.deepEqual(resumed, { type: 'resumed', offset: first.outputBytes().length, recorded: false });
    back.type('echo "after-$((50+1))"\r');
    await back.waitForOutput(/after-51\r\n/);
    const otherUser = await exchangeOk(gw, (await launchOk(gw, { ...developerLaunch(), userId: world.users.admin.id })).url);
    const foreign = await mintEmbedTicket(gw, otherUser.credential).send({ sessionId: ready.sessionId });
    assert.equal(foreign.status, 404, "another user's credential cannot resume it");
    back.close();
    await back.closed;
  });

  test('a watch view (issue #16): its credential watches the one session named at launch, as any watcher does', async () => {
    const owner = await connectTerminal(await mintTicket(gw, await signIn(gw, world.users.admin), world.builds.linuxRunning), gw);
    const ready = await owner.waitForControl('ready');
    assert.ok(ready.type === 'ready');
    owner.type('echo "owner-$((40+3))"\r');
    await owner.waitForOutput(/owner-43\r\n/);

    const view = await exchangeOk(gw, (await launchOk(gw, developerLaunch({ mode: 'watch', sessionId: ready.sessionId }))).url);
    assert.equal(view.watchSessionId, ready.sessionId);
    const own = await exchangeOk(gw, (await launchOk(gw, developerLaunch())).url);
    assert.equal(own.watchSessionId, null, 'a launch without mode is the user\'s own terminal');

    const other = await mintEmbedTicket(gw, view.credential).send({ sessionId: 'fedcba9876543210' });
    assert.equal(other.status, 400, 'the page cannot turn a watch view to another session');
    assert.equal(other.body.error.code, 'invalid_field');
    const ticket = (await mintEmbedTicket(gw, view.credential).send({ sessionId: ready.sessionId })).body as Ticket;
    const watcher = await connectTerminal(ticket, gw);
    const watching = await watcher.waitForControl('ready');
    assert.equal(watching.type === 'ready' ? watching.mode : null, 'watch');
    await watcher.waitForOutput(/owner-43\r\n/);
    const proof = join(tmpdir(), `embed-watcher-${process.pid}`);
    rmSync(proof, { force: true });
    watcher.type(`touch ${proof}\r`);
    owner.type('echo "still-$((40+4))"\r');
    await watcher.waitForOutput(/still-44\r\n/);
    assert.equal(existsSync(proof), false, "a watch view's keys never reach the VM");

    const tester = await launch(gw, { ...developerLaunch({ mode: 'watch', sessionId: ready.sessionId }), userId: world.users.tester.id });
    assert.equal(tester.status, 403, 'testers may not watch either');
    const gone = await exchangeOk(gw, (await launchOk(gw, developerLaunch({ mode: 'watch', sessionId: 'fedcba9876543210' }))).url);
    const unknown = await mintEmbedTicket(gw, gone.credential).send({});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'session_not_found');

    owner.close();
    assert.equal((await watcher.closed).code, (await owner.closed).code, "the watch view ends with the owner's session, with its code");
  });

  test('embed pages: framed only by the launch\'s parent origin, no Referer, no cookie; every other page framed by nobody', async () => {
    const { path } = parseLaunchUrl((await launchOk(gw, developerLaunch())).url);
    const page = await request(gw.url).get(path);
    assert.equal(page.status, 200);
    const csp = page.get('Content-Security-Policy') ?? '';
    const ancestors = /(?:^|;)\s*frame-ancestors ([^;]*)/.exec(csp)?.[1];
    assert.equal(ancestors, DASHBOARD, csp);
    assert.equal(page.get('X-Frame-Options'), undefined, 'no conflicting X-Frame-Options');
    assert.equal(page.get('Referrer-Policy'), 'no-referrer');
    assert.equal(page.get('Set-Cookie'), undefined);
    assert.equal(page.get('Cache-Control'), 'no-store');
    assert.match(page.text, /<main id="terminal"/);

    const screen = await request(gw.url).get(`/embed/screen?parent=${encodeURIComponent(LOCAL_DASHBOARD)}`);
    assert.equal(screen.status, 200);
    assert.match(screen.get('Content-Security-Policy') ?? '', new RegExp(`frame-ancestors ${LOCAL_DASHBOARD}(;|$)`));
    assert.match(screen.text, /<main id="screen"/);

    for (const refused of ['/embed/terminal', `/embed/terminal?parent=${encodeURIComponent('https://evil.example')}`, `/embed/terminal?parent=${encodeURIComponent(DASHBOARD)}&parent=x`]) {
      const res = await request(gw.url).get(refused).set('Accept', 'text/html');
      assert.equal(res.status, 403, refused);
      assert.match(res.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(res.get('X-Frame-Options'), 'DENY');
    }
    for (const other of ['/login', '/builds/build-linux', '/api/v1/embed/window']) {
      const res = await request(gw.url).get(`${other}?parent=${encodeURIComponent(DASHBOARD)}`);
      assert.match(res.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/, other);
      assert.equal(res.get('X-Frame-Options'), 'DENY', other);
      assert.equal(res.get('Referrer-Policy'), 'same-origin', other);
    }
  });

  test('the SDK is one cross-origin-loadable file', async () => {
    const res = await request(gw.url).get('/sdk/porthole-embed.js').set('Origin', DASHBOARD);
    assert.equal(res.status, 200);
    assert.match(res.get('Content-Type') ?? '', /^text\/javascript/);
    assert.equal(res.get('Access-Control-Allow-Origin'), '*');
    assert.equal(res.get('Cross-Origin-Resource-Policy'), 'cross-origin');
    assert.match(res.get('Cache-Control') ?? '', /max-age=300/);
    const source = res.text;
    assert.match(source, /customElements\.define\(`porthole-terminal`/);
    assert.match(source, /porthole-screen/);
    assert.doesNotMatch(source, /^\s*import[\s{*"']/m, 'no imports of other chunks');
    const map = /sourceMappingURL=(\S+)/.exec(source)?.[1] ?? '';
    const mapRes = await request(gw.url).get(`/sdk/${map}`);
    assert.equal(mapRes.status, 200, 'the source map resolves beside the SDK');
  });
});
