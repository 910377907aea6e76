/**
 * Every identity against every kind of build through every door. Only members with a working role
 * (developer, admin, owner) on a build whose window is open get in — except the window's events,
 * which any member of the build's app may follow, as they may read the window; every other cell is
 * refused with its documented status, and a spy on the dialer proves no refusal dialled the VM.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, UpgradeRefused, type Ticket } from '../helpers/terminal-client.js';
import { spyDialer, type SpyDialer } from '../helpers/spy-dialer.js';
import { attemptUpgrade, ticketProtocols } from '../helpers/upgrade-probe.js';
import { BrowserExposure } from '../helpers/exposure.js';
import { freePort } from '../helpers/ports.js';
import { SSH_SUBPROTOCOL } from '../../shared/src/protocol/ssh-v1.js';
import { cookieOfAgent, openWindowEvents } from '../helpers/window-events.js';

const IDENTITIES = ['anonymous', 'expired session', 'tester', 'developer', 'admin', 'owner', 'member of another app'] as const;
const BUILDS = ['running', 'finished 9 minutes ago', 'finished 11 minutes ago', 'revoked', "another app's", 'unknown'] as const;
const ENDPOINTS = ['build page', 'instructions reveal', 'ticket mint', 'resume mint', 'watch mint', 'screen watch mint', 'live sessions', 'watcher control', 'watcher removal', '/ws/ssh', '/ws/vnc', 'embed mint', 'embed launch', 'files list', 'file download', 'folder archive', 'file upload', 'embedded download', 'window extend', 'window release', 'window events'] as const;
/** The dashboard allowed to embed Porthole in this test. */
const DASHBOARD_ORIGIN = 'https://dashboard.example';
type Identity = (typeof IDENTITIES)[number];
type BuildKind = (typeof BUILDS)[number];
type Endpoint = (typeof ENDPOINTS)[number];

const ALLOWED_IDENTITIES: ReadonlySet<Identity> = new Set(['developer', 'admin', 'owner']);
const OPEN_BUILDS: ReadonlySet<BuildKind> = new Set(['running', 'finished 9 minutes ago']);
/** Reading a build's window (GET .../window and its events) needs only membership: a tester, a closed window included. */
const MEMBERS: ReadonlySet<Identity> = new Set(['tester', 'developer', 'admin', 'owner']);
const APP_1_BUILDS: ReadonlySet<BuildKind> = new Set(['running', 'finished 9 minutes ago', 'finished 11 minutes ago', 'revoked']);
const MEMBERS_ONLY: ReadonlySet<Endpoint> = new Set(['window events']);

function allows(identity: Identity, build: BuildKind, endpoint: Endpoint): boolean {
  if (MEMBERS_ONLY.has(endpoint)) return MEMBERS.has(identity) && APP_1_BUILDS.has(build);
  return ALLOWED_IDENTITIES.has(identity) && OPEN_BUILDS.has(build);
}

let gw: TestGateway;
let world: World;
let dialer: SpyDialer;
let closedPort: number;
const exposure = new BrowserExposure();
const agents = new Map<Identity, TestAgent>();
/** Whom each identity stands for when a dashboard asks to embed for it (null: nobody). */
const embedUserIds = new Map<Identity, string | null>();
const buildIds = new Map<BuildKind, string>();
/** Registers a build as the control API does (a copy of an open build for each release cell). */
let registerBuild: (id: string, body: Record<string, unknown>) => Promise<void>;
let releaseCopies = 0;

before(async () => {
  dialer = spyDialer();
  gw = await startGateway({ PORTHOLE_EMBED_ORIGINS: DASHBOARD_ORIGIN }, { dialer });
  closedPort = await freePort();
  world = await seedWorld(gw, { ssh: { host: '127.0.0.1', port: closedPort, username: 'runner', password: 'matrix-ssh-password' }, vnc: { host: '127.0.0.1', port: closedPort, password: 'matrix-vnc-pw' } });
  const api = control(gw);
  const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();
  const remoteAccess = {
    ssh: { host: '127.0.0.1', port: closedPort, username: 'runner', password: world.vmSecrets.sshPassword },
    vnc: { host: '127.0.0.1', port: closedPort, username: 'runner', password: world.vmSecrets.vncPassword },
  };
  const put = async (id: string, body: Record<string, unknown>): Promise<void> => {
    const res = await api.put(`/builds/${id}`, { stack: 'macos', startedAt: minutesAgo(60), remoteAccess, ...body });
    assert.ok(res.status < 300, JSON.stringify(res.body));
  };
  registerBuild = put;
  await put('m-running', { appId: 'app-1', status: 'running' });
  await put('m-fin9', { appId: 'app-1', status: 'finished', finishedAt: minutesAgo(9) });
  await put('m-fin11', { appId: 'app-1', status: 'finished', finishedAt: minutesAgo(11) });
  await put('m-revoked', { appId: 'app-1', status: 'running' });
  assert.equal((await api.post('/builds/m-revoked/revoke')).status, 200);
  // app-3 has a member, but none of the identities below.
  assert.ok((await api.put('/users/stranger', { email: 'stranger@example.test', name: 'Stranger', password: 'pw-stranger-123456' })).status < 300);
  assert.ok((await api.put('/apps/app-3', { name: 'Third App' })).status < 300);
  assert.ok((await api.put('/apps/app-3/members/stranger', { role: 'owner' })).status < 300);
  await put('m-app3', { appId: 'app-3', status: 'running' });
  buildIds.set('running', 'm-running').set('finished 9 minutes ago', 'm-fin9').set('finished 11 minutes ago', 'm-fin11');
  buildIds.set('revoked', 'm-revoked').set("another app's", 'm-app3').set('unknown', 'no-such-build');

  // The expired session signs in first; then every session row that exists is made stale.
  agents.set('expired session', await signIn(gw, world.users.developer));
  const db = new Database(gw.databasePath);
  db.prepare('UPDATE sessions SET expires_at = ?').run(Date.now() - 1000);
  db.close();
  agents.set('anonymous', request.agent(gw.url));
  agents.set('tester', await signIn(gw, world.users.tester));
  agents.set('developer', await signIn(gw, world.users.developer));
  agents.set('admin', await signIn(gw, world.users.admin));
  agents.set('owner', await signIn(gw, world.users.owner));
  agents.set('member of another app', await signIn(gw, world.users.outsider));
  embedUserIds.set('anonymous', null).set('expired session', world.users.developer.id).set('tester', world.users.tester.id);
  embedUserIds.set('developer', world.users.developer.id).set('admin', world.users.admin.id).set('owner', world.users.owner.id);
  embedUserIds.set('member of another app', world.users.outsider.id);
});

after(async () => {
  exposure.assertNoneOf({ 'VM ssh password': world.vmSecrets.sshPassword, 'VM vnc password': world.vmSecrets.vncPassword }, gw.rawLogs());
  await gw.close();
});

interface CellResult {
  readonly allowed: boolean;
  readonly status: number;
}

async function mint(agent: TestAgent, buildId: string, kind: 'ssh' | 'vnc'): Promise<{ status: number; ticket: string | null }> {
  const res = await agent.post(`/api/v1/builds/${buildId}/connections`).set('Origin', gw.origin).send({ kind });
  exposure.recordResponse(res);
  const body = res.body as { ticket?: string };
  return { status: res.status, ticket: res.status === 201 && typeof body.ticket === 'string' ? body.ticket : null };
}

async function tryCell(identity: Identity, build: BuildKind, endpoint: Endpoint): Promise<CellResult> {
  const agent = agents.get(identity);
  const buildId = buildIds.get(build);
  assert.ok(agent && buildId);
  switch (endpoint) {
    case 'build page': {
      const res = await agent.get(`/builds/${buildId}`).set('Accept', 'text/html');
      exposure.recordResponse(res);
      return { allowed: res.status === 200, status: res.status };
    }
    case 'instructions reveal': {
      // The one response allowed to carry VM passwords: not recorded as browser exposure.
      const res = await agent.get(`/api/v1/builds/${buildId}/remote-access`).set('Sec-Fetch-Site', 'same-origin');
      if (res.status !== 200) exposure.recordResponse(res);
      return { allowed: res.status === 200, status: res.status };
    }
    case 'ticket mint': {
      const minted = await mint(agent, buildId, 'ssh');
      return { allowed: minted.status === 201, status: minted.status };
    }
    case 'resume mint':
    case 'watch mint':
    case 'screen watch mint': {
      // No session is live here (the VM port is closed): a cell the policy lets through reaches the
      // session look-up and learns only that there is no such session; every other cell is refused
      // by the policy first, exactly as a new connection's mint.
      const mode = endpoint === 'resume mint' ? {} : { mode: 'watch' };
      const kind = endpoint === 'screen watch mint' ? 'vnc' : 'ssh';
      const res = await agent.post(`/api/v1/builds/${buildId}/connections`).set('Origin', gw.origin).send({ kind, sessionId: '0123456789abcdef', ...mode });
      exposure.recordResponse(res);
      const code = (res.body as { error?: { code?: string } }).error?.code;
      return { allowed: res.status === 404 && code === 'session_not_found', status: res.status };
    }
    case 'live sessions': {
      const res = await agent.get(`/api/v1/builds/${buildId}/live-sessions`);
      exposure.recordResponse(res);
      return { allowed: res.status === 200, status: res.status };
    }
    case 'watcher control':
    case 'watcher removal': {
      // As the watch mint: a cell the policy lets through reaches the session look-up and finds none.
      const path = `/api/v1/builds/${buildId}/live-sessions/0123456789abcdef/watchers/${world.users.admin.id}`;
      const res = endpoint === 'watcher control' ? await agent.put(path).set('Origin', gw.origin).send({ mode: 'drive' }) : await agent.delete(path).set('Origin', gw.origin);
      exposure.recordResponse(res);
      const code = (res.body as { error?: { code?: string } }).error?.code;
      return { allowed: res.status === 404 && code === 'session_not_found', status: res.status };
    }
    case '/ws/ssh':
    case '/ws/vnc': {
      const kind = endpoint === '/ws/ssh' ? 'ssh' : 'vnc';
      const minted = await mint(agent, buildId, kind);
      const ticket = minted.ticket ?? 'forged-ticket-0000000000000000000000000000000000';
      const url = `${gw.url.replace('http', 'ws')}/ws/${kind}?build=${encodeURIComponent(buildId)}`;
      const outcome = await attemptUpgrade({ url, origin: gw.origin, protocols: ticketProtocols(kind === 'ssh' ? SSH_SUBPROTOCOL : 'binary', ticket) });
      if (!outcome.opened) {
        exposure.record(outcome.body);
        return { allowed: false, status: outcome.status };
      }
      // Allowed: the gateway dials the (closed) VM port and closes with 4004; wait so that dial
      // is counted against this cell, not the next.
      outcome.ws.on('message', (data: Buffer) => exposure.record(data));
      // A screen reports the VM's failure once the browser's RFB greeting is done, as noVNC's is.
      if (kind === 'vnc') outcome.ws.send(Buffer.concat([Buffer.from('RFB 003.008\n', 'latin1'), Buffer.from([1])]));
      const code = await new Promise<number>((resolve) => outcome.ws.once('close', (c) => resolve(c)));
      assert.equal(code, 4004);
      return { allowed: true, status: 101 };
    }
    case 'files list':
    case 'file download':
    case 'folder archive':
    case 'file upload': {
      // The matrix's VMs listen nowhere: a cell the policy lets through goes on to dial the
      // registered (closed) port and answers 502 vm_unreachable — "not refused by the policy".
      // Every refusal answers before any dial, which the spy checks below.
      const base = `/api/v1/builds/${buildId}/files`;
      const res =
        endpoint === 'files list'
          ? await agent.get(`${base}?path=/tmp`)
          : endpoint === 'file download'
            ? await agent.get(`${base}/content?path=/etc/hostname`)
            : endpoint === 'folder archive'
              ? await agent.get(`${base}/archive?path=/tmp`)
              : await agent.put(`${base}/content?path=/tmp/matrix.bin`).set('Origin', gw.origin).set('Content-Type', 'application/octet-stream').send(Buffer.from('matrix'));
      exposure.recordResponse(res);
      const code = (res.body as { error?: { code?: string } }).error?.code;
      return { allowed: res.status === 502 && code === 'vm_unreachable', status: res.status };
    }
    case 'embedded download': {
      // The embedded terminal's download form: a credential this identity's dashboard could get
      // for this build, else (the mint refused) a forged one.
      const credential = (await embedCredentialFor(identity, buildId)) ?? 'forged-credential-00000000000000000000000000000';
      const res = await request(gw.url)
        .post(`/api/v1/builds/${buildId}/files/download`)
        .set('Origin', 'null')
        .set('Sec-Fetch-Site', 'same-origin')
        .type('form')
        .send({ credential, path: '/etc/hostname', as: 'file' });
      exposure.recordResponse(res);
      const code = (res.body as { error?: { code?: string } }).error?.code;
      return { allowed: res.status === 502 && code === 'vm_unreachable', status: res.status };
    }
    case 'window extend': {
      // The matrix's builds grant no extensions: a cell the policy lets through reaches the
      // extension decision and learns only that there is none; nothing changes.
      const res = await agent.post(`/api/v1/builds/${buildId}/extend`).set('Origin', gw.origin);
      exposure.recordResponse(res);
      const code = (res.body as { error?: { code?: string } }).error?.code;
      return { allowed: res.status === 409 && code === 'extension_not_available', status: res.status };
    }
    case 'window release': {
      // An allowed release closes the build for good: each open build's cell releases a copy of it.
      let target = buildId;
      if (OPEN_BUILDS.has(build)) {
        target = `${buildId}-release-${++releaseCopies}`;
        const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();
        await registerBuild(target, build === 'running' ? { appId: 'app-1', status: 'running' } : { appId: 'app-1', status: 'finished', finishedAt: minutesAgo(9) });
      }
      const res = await agent.post(`/api/v1/builds/${target}/release`).set('Origin', gw.origin);
      exposure.recordResponse(res);
      return { allowed: res.status === 200, status: res.status };
    }
    case 'window events': {
      // As the page's EventSource opens it: the session cookie only. Allowed means the current window arrived.
      const stream = await openWindowEvents(gw, cookieOfAgent(agent, gw), buildId);
      try {
        if (stream.body) exposure.record(JSON.stringify(stream.body));
        const first = stream.status === 200 ? await stream.next('window') : null;
        if (first) exposure.record(JSON.stringify(first.data));
        return { allowed: first !== null, status: stream.status };
      } finally {
        stream.close();
      }
    }
    case 'embed mint':
    case 'embed launch': {
      // The dashboard's backend asks for a launch URL for this identity. Anonymous: a caller without
      // the control token; an expired session: a dashboard whose token was rotated away.
      const userId = embedUserIds.get(identity) ?? null;
      const launch = request(gw.url).post('/api/v1/embed-sessions');
      const credential =
        identity === 'anonymous' ? launch : identity === 'expired session' ? launch.set('Authorization', 'Bearer rotated-away-control-token') : launch.set('Authorization', `Bearer ${gw.controlToken}`);
      const minted = await credential.send({ userId: userId ?? 'nobody', buildId, kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN });
      exposure.recordResponse(minted);
      if (endpoint === 'embed mint') return { allowed: minted.status === 201, status: minted.status };
      // The embed page in the browser exchanges the launch token (from the URL fragment) once.
      const url = minted.status === 201 ? new URL((minted.body as { url: string }).url) : null;
      const token = url ? (new URLSearchParams(url.hash.slice(1)).get('launch') ?? '') : 'forged-launch-token-000000000000000000000000';
      const exchanged = await request(gw.url).post('/api/v1/embed/credentials').set('Origin', gw.origin).send({ launch: token, kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN });
      exposure.recordResponse(exchanged);
      return { allowed: exchanged.status === 201, status: exchanged.status };
    }
  }
}

/** An embedded terminal's credential for this identity on this build, or null when the dashboard could get none. */
async function embedCredentialFor(identity: Identity, buildId: string): Promise<string | null> {
  const userId = embedUserIds.get(identity) ?? null;
  if (userId === null || identity === 'anonymous' || identity === 'expired session') return null;
  const minted = await request(gw.url).post('/api/v1/embed-sessions').set('Authorization', `Bearer ${gw.controlToken}`).send({ userId, buildId, kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN });
  if (minted.status !== 201) return null;
  const token = new URLSearchParams(new URL((minted.body as { url: string }).url).hash.slice(1)).get('launch') ?? '';
  const exchanged = await request(gw.url).post('/api/v1/embed/credentials').set('Origin', gw.origin).send({ launch: token, kind: 'ssh', parentOrigin: DASHBOARD_ORIGIN });
  return exchanged.status === 201 ? (exchanged.body as { credential: string }).credential : null;
}

/** The status each refusal must carry, so a refusal is never an accident (a 500, a crash). */
function expectedRefusal(identity: Identity, build: BuildKind, endpoint: Endpoint): readonly number[] {
  const ws = endpoint === '/ws/ssh' || endpoint === '/ws/vnc';
  if (identity === 'anonymous' || identity === 'expired session') return endpoint === 'build page' ? [302, 303] : [401];
  // The mint was refused, so a forged ticket, launch or credential was tried.
  if (ws || endpoint === 'embed launch' || endpoint === 'embedded download') return [401];
  if (build === 'unknown' || build === "another app's" || identity === 'member of another app') return [404];
  if (identity === 'tester') return [403];
  return [410];
}

test('authorization matrix: only allowed cells succeed, refusals dial nothing', async () => {
  const table: string[] = [];
  let cells = 0;
  for (const identity of IDENTITIES) {
    for (const build of BUILDS) {
      for (const endpoint of ENDPOINTS) {
        const dialsBefore = dialer.dials.length;
        const result = await tryCell(identity, build, endpoint);
        const shouldAllow = allows(identity, build, endpoint);
        cells += 1;
        const where = `${identity} × ${build} × ${endpoint}`;
        assert.equal(result.allowed, shouldAllow, `${where}: got ${result.status}`);
        if (!shouldAllow) {
          assert.ok(expectedRefusal(identity, build, endpoint).includes(result.status), `${where}: refused with ${result.status}`);
          assert.equal(dialer.dials.length, dialsBefore, `${where}: a refusal dialled the VM`);
        }
        table.push(`${where}: ${result.status}`);
      }
    }
  }
  assert.equal(cells, IDENTITIES.length * BUILDS.length * ENDPOINTS.length);
  // Every dial went to the registered endpoint, never anywhere a request named.
  assert.ok(dialer.dials.every((d) => d.host === '127.0.0.1' && d.port === closedPort));
});

test('watching (issue #16): forged, cross-build and cross-kind session ids are refused without a dial; so is a watch ticket whose session ended', async () => {
  const sshd = await startSshd();
  try {
    await registerLinuxBuild(gw, 'w-live', passwordEndpoint(sshd));
    await registerLinuxBuild(gw, 'w-other', passwordEndpoint(sshd));
    const owner = agents.get('developer');
    const watcher = agents.get('admin');
    assert.ok(owner && watcher);
    const ownerTerminal = await connectTerminal(await mintTicket(gw, owner, 'w-live'), gw);
    const ready = await ownerTerminal.waitForControl('ready');
    assert.ok(ready.type === 'ready');
    const dialsBefore = dialer.dials.length;
    const watch = (buildId: string, sessionId: string, kind: 'ssh' | 'vnc' = 'ssh'): ReturnType<TestAgent['post']> =>
      watcher.post(`/api/v1/builds/${buildId}/connections`).set('Origin', gw.origin).send({ kind, sessionId, mode: 'watch' });
    for (const [what, buildId, sessionId, kind] of [
      ['a forged id', 'w-live', 'fedcba9876543210', 'ssh'],
      ['the id on another build of the app', 'w-other', ready.sessionId, 'ssh'],
      ['the id on a build with a screen, as a screen', 'm-running', ready.sessionId, 'vnc'],
    ] as const) {
      const res = await watch(buildId, sessionId, kind);
      exposure.recordResponse(res);
      assert.deepEqual([res.status, (res.body as { error?: { code?: string } }).error?.code], [404, 'session_not_found'], what);
    }
    const ticket = await watch('w-live', ready.sessionId);
    assert.equal(ticket.status, 201);
    ownerTerminal.close();
    await ownerTerminal.closed;
    await assert.rejects(connectTerminal(ticket.body as Ticket, gw), (error: unknown) => {
      assert.ok(error instanceof UpgradeRefused, String(error));
      assert.equal(error.status, 404, 'the session it names has ended: refused before the upgrade');
      return true;
    });
    assert.equal(dialer.dials.length, dialsBefore, 'no watch attempt dialled the VM');
  } finally {
    await sshd.stop();
  }
});
