/**
 * Faults of the world around the gateway: a VM tunnel that silently stops forwarding, a VM that
 * dies mid-session, a browser that vanishes without closing, a SIGTERM with clients connected,
 * and a database that is briefly out of reach.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { connectScreen } from '../helpers/screen-client.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { waitForAudit } from '../helpers/ops.js';
import { SSH_KEEPALIVE_COUNT_MAX, SSH_KEEPALIVE_INTERVAL_MS } from '../../server/src/protocols/ssh/upstream.js';
import { VNC_PROBE_INTERVAL_MS } from '../../server/src/protocols/vnc/bridge.js';

/** docs/operations.md: a stalled SSH tunnel is dropped after the keepalives go unanswered. */
const SSH_STALL_BOUND_MS = SSH_KEEPALIVE_INTERVAL_MS * (SSH_KEEPALIVE_COUNT_MAX + 1) + 2_000;
/** docs/operations.md: a silent VNC server is probed, then dropped, within three probe intervals. */
const VNC_STALL_BOUND_MS = VNC_PROBE_INTERVAL_MS * 3 + 2_000;
const TEST_PING_INTERVAL_MS = 500;

let sshd: SshdHandle;
let xvnc: XvncHandle;

before(async () => {
  [sshd, xvnc] = await Promise.all([startSshd(), startXvnc()]);
});
after(async () => {
  await Promise.all([sshd.stop(), xvnc.stop()]);
});

describe('the VM side fails', () => {
  let gw: TestGateway;
  let world: World;
  const relays: TcpRelay[] = [];

  before(async () => {
    gw = await startGateway({ PORTHOLE_MAX_CONNECTIONS_PER_USER: '50' });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
  });
  after(async () => {
    await gw.close();
    await Promise.all(relays.map((r) => r.close()));
  });

  async function relayedBuilds(name: string): Promise<{ ssh: TcpRelay; vnc: TcpRelay; buildId: string }> {
    const ssh = await startTcpRelay({ host: sshd.host, port: sshd.port });
    const vnc = await startTcpRelay({ host: xvnc.host, port: xvnc.port });
    relays.push(ssh, vnc);
    const endpoint = passwordEndpoint(sshd);
    const res = await control(gw).put(`/builds/${name}`, {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { ...endpoint, host: ssh.host, port: ssh.port }, vnc: { host: vnc.host, port: vnc.port, username: 'runner', password: xvnc.password } },
    });
    assert.ok(res.status < 300);
    return { ssh, vnc, buildId: name };
  }

  test('a tunnel that stops forwarding is detected by keepalives within the documented bound', { timeout: SSH_STALL_BOUND_MS + 30_000 }, async () => {
    const { ssh, vnc, buildId } = await relayedBuilds('stalling');
    const agent = await signIn(gw, world.users.owner);
    const terminal = await connectTerminal(await mintTicket(gw, agent, buildId), gw);
    await terminal.waitForControl('ready');
    const screen = await connectScreen(await mintTicket(gw, agent, buildId, 'vnc'), gw);
    await screen.readPixels(0, 0, 1, 1);
    const stalledAt = performance.now();
    ssh.stall();
    vnc.stall();
    terminal.type('echo lost\r');
    const at = (p: Promise<{ code: number; reason: string }>): Promise<{ code: number; reason: string; after: number }> => p.then((c) => ({ ...c, after: performance.now() - stalledAt }));
    const [t, s] = await Promise.all([at(terminal.closed), at(screen.closed)]);
    const [tAt, sAt] = [t.after, s.after];
    assert.equal(t.code, 4004, `terminal closed with ${t.code} ${t.reason}`);
    assert.equal(s.code, 4004, `screen closed with ${s.code} ${s.reason}`);
    assert.ok(tAt <= SSH_STALL_BOUND_MS, `terminal closed after ${tAt} ms`);
    assert.ok(sAt <= VNC_STALL_BOUND_MS, `screen closed after ${sAt} ms`);
    process.stdout.write(`# stalled tunnel: terminal closed with 4004 after ${(tAt / 1000).toFixed(1)} s, screen after ${(sAt / 1000).toFixed(1)} s\n`);
  });

  test('a VM that dies mid-session: 4004 or 4005, and the gateway keeps serving', async () => {
    const { ssh, vnc, buildId } = await relayedBuilds('dying');
    const agent = await signIn(gw, world.users.owner);
    const terminal = await connectTerminal(await mintTicket(gw, agent, buildId), gw);
    await terminal.waitForControl('ready');
    const screen = await connectScreen(await mintTicket(gw, agent, buildId, 'vnc'), gw);
    await screen.readPixels(0, 0, 1, 1);
    ssh.cut();
    vnc.cut();
    const [t, s] = await Promise.all([terminal.closed, screen.closed]);
    assert.ok([4004, 4005].includes(t.code), `terminal ${t.code}`);
    assert.ok([4004, 4005].includes(s.code), `screen ${s.code}`);
    assert.ok(t.reason.length > 0 && s.reason.length > 0, 'closes carry a human reason');
    const again = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
    await again.waitForControl('ready');
    again.close();
  });
});

describe('the browser vanishes', () => {
  // Both ways a silent browser is found: held for resuming (the default), or ended (resuming off).
  for (const resumeSeconds of ['300', '0'] as const) {
    test(`a browser going silent is found within two ping intervals: ${resumeSeconds === '0' ? 'the upstream closes (resuming off)' : 'the session is held'}`, async () => {
      const gw = await startGateway({ PORTHOLE_RESUME_SECONDS: resumeSeconds }, { pingIntervalMs: TEST_PING_INTERVAL_MS });
      const vmRelay = await startTcpRelay({ host: sshd.host, port: sshd.port });
      try {
        const world = await seedWorld(gw, { ssh: { ...passwordEndpoint(sshd), host: vmRelay.host, port: vmRelay.port } });
        const browserRelay = await startTcpRelay({ host: '127.0.0.1', port: Number(new URL(gw.url).port) });
        try {
          const agent = await signIn(gw, world.users.owner);
          const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
          const viaRelay = ticket.url.replace(/:\d+\//, `:${browserRelay.port}/`);
          const terminal = await connectTerminal({ ...ticket, url: viaRelay }, gw);
          await terminal.waitForControl('ready');
          assert.equal(vmRelay.openUpstreams(), 1);
          const found = resumeSeconds === '0' ? vmRelay.nextUpstreamClose() : waitForAudit(gw, (e) => e.event === 'session_detached');
          const silentAt = performance.now();
          browserRelay.stall(); // laptop lid closed: no FIN, no RST, no pong
          await found;
          const took = performance.now() - silentAt;
          // Two intervals, plus one for where in its cycle the silence began.
          assert.ok(took <= TEST_PING_INTERVAL_MS * 3 + 500, `found ${took.toFixed(0)} ms after the browser went silent`);
          if (resumeSeconds !== '0') assert.equal(vmRelay.openUpstreams(), 1, 'the held session keeps its shell');
          terminal.ws.terminate();
        } finally {
          await browserRelay.close();
        }
      } finally {
        await gw.close();
        await vmRelay.close();
      }
    });
  }
});

describe('the gateway is stopped', () => {
  test('SIGTERM mid-session: a terminal and a screen get 1001 and the process exits 0', async () => {
    const gw = await startGatewayProcess();
    try {
      const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
      const agent = await signIn(gw, world.users.developer);
      const terminal = await connectTerminal(await mintTicket(gw, agent, world.builds.macRunning), gw);
      await terminal.waitForControl('ready');
      const screen = await connectScreen(await mintTicket(gw, agent, world.builds.macRunning, 'vnc'), gw);
      await screen.readPixels(0, 0, 1, 1);
      gw.process.child.kill('SIGTERM');
      assert.equal((await terminal.closed).code, 1001);
      assert.equal((await screen.closed).code, 1001);
      assert.equal((await gw.exitWithin(10_000)).code, 0);
    } finally {
      await gw.stop();
    }
  });
});

describe('the database is briefly unavailable', () => {
  test('clear 503s while locked, recovery without a restart, nothing lost, live sessions unaffected', async () => {
    const gw = await startGateway();
    try {
      const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
      const agent = await signIn(gw, world.users.owner);
      const terminal = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
      await terminal.waitForControl('ready');

      // Another process holds the write lock (a stuck migration, an operator's sqlite3 shell).
      const locker = new Database(gw.databasePath);
      locker.exec('BEGIN EXCLUSIVE');
      let lockedResponses = 0;
      try {
        const write = await control(gw).put('/builds/during-outage', { appId: 'app-1', stack: 'linux', status: 'running', startedAt: new Date().toISOString(), remoteAccess: { ssh: passwordEndpoint(sshd) } });
        assert.equal(write.status, 503);
        assert.equal(write.body.error.code, 'store_unavailable');
        // Reads still work under a write lock (WAL): tickets can be minted, pages load.
        const mint = await agent.post(`/api/v1/builds/${world.builds.linuxRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh' });
        assert.equal(mint.status, 201);
        const login = await signIn(gw, world.users.admin).then(
          () => 204,
          (error: Error) => Number(/sign-in failed: (\d+)/.exec(error.message)?.[1]),
        );
        assert.equal(login, 503);
        lockedResponses = 3;
        // The live terminal does not need the database: it keeps working.
        terminal.type('echo during-$((2*21))\r');
        await terminal.waitForOutput(/during-42/);
      } finally {
        locker.exec('ROLLBACK');
        locker.close();
      }
      assert.equal(lockedResponses, 3);
      // Recovery: the same requests succeed, and the refused write was not half-applied.
      assert.equal((await control(gw).get('/builds/during-outage')).status, 404);
      await registerLinuxBuild(gw, 'during-outage', passwordEndpoint(sshd));
      assert.equal((await control(gw).get('/builds/during-outage')).status, 200);
      assert.equal((await control(gw).get(`/builds/${world.builds.linuxRunning}`)).status, 200);
      const later = await connectTerminal(await mintTicket(gw, await signIn(gw, world.users.admin), 'during-outage'), gw);
      await later.waitForControl('ready');
      later.close();
      terminal.close();
      assert.doesNotMatch(gw.rawLogs(), /"level":50.*unhandled/);
    } finally {
      await gw.close();
    }
  });
});
