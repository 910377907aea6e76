/** The in-page screen's server side: a real TigerVNC Xvnc, and a fake Apple (ARD) server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { startFakeRfbServer } from '../helpers/ard-server.js';
import { establishedConnectionsTo, runCommand } from '../helpers/daemon.js';
import { freePort, pollUntil } from '../helpers/ports.js';
import { metricValue, scrapeMetrics } from '../helpers/ops.js';
import type { LiveSessionsView } from '../../shared/src/api.js';
import { spyDialer, type SpyDialer } from '../helpers/spy-dialer.js';
import { connectScreen, readPixelsDirect, type ScreenClient } from '../helpers/screen-client.js';
import { UpgradeRefused, type Ticket } from '../helpers/terminal-client.js';

/** Bounds waits for effects on the X server (a file appearing, the pointer moving). */
const DESKTOP_EFFECT_TIMEOUT_MS = 10_000;

/** Whole screens a stalled browser is sent before the gateway must hold back (8 MiB mark plus the kernel's buffers). */
const MAX_STACKED_FRAMES = 40;

describe('screen over a real Xvnc', () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let dialer: SpyDialer;

  before(async () => {
    xvnc = await startXvnc({ terminalWindow: true, background: '#204080' });
    dialer = spyDialer();
    gw = await startGateway({}, { dialer });
    world = await seedWorld(gw, { vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
  });
  after(async () => {
    await gw.close();
    await xvnc.stop();
  });

  async function ticket(buildId: string, options: { viewOnly?: boolean } = {}): Promise<Ticket> {
    const agent = await signIn(gw, world.users.developer);
    const res = await agent.post(`/api/v1/builds/${buildId}/connections`).set('Origin', gw.origin).send({ kind: 'vnc', ...options });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as Ticket;
  }

  async function pointerLocation(): Promise<string> {
    const { stdout } = await runCommand('/usr/bin/xdotool', ['getmouselocation'], { env: { ...process.env, DISPLAY: `:${xvnc.display}` } });
    const text = stdout.toString();
    return /x:(\d+) y:(\d+)/.exec(text)?.slice(1, 3).join(',') ?? text;
  }

  test('the gateway authenticates with VncAuth and offers the browser only None', async () => {
    const t = await ticket(world.builds.macRunning);
    assert.equal(t.protocol, 'binary');
    const screen = await connectScreen(t, gw);
    assert.deepEqual(screen.offeredTypes, [1]);
    assert.equal(screen.securityResult, 0);
    assert.equal(screen.serverInit?.width, xvnc.width);
    assert.equal(screen.serverInit?.height, xvnc.height);
    const pixel = await screen.readPixels(2, 2, 1, 1);
    // Xvnc's default format: 32 bpp little-endian, red at bit 16 → bytes B, G, R, X.
    assert.deepEqual([pixel[2], pixel[1], pixel[0]], [0x20, 0x40, 0x80]);
    screen.close();
  });

  test('the whole screen through the gateway is byte for byte the screen read straight from Xvnc', async () => {
    const screen = await connectScreen(await ticket(world.builds.macRunning), gw);
    const init = screen.serverInit;
    assert.ok(init);
    const whole = { x: 0, y: 0, width: init.width, height: init.height };
    const direct = await readPixelsDirect(xvnc.host, xvnc.port, xvnc.password, whole);
    assert.equal(direct.length, init.width * init.height * 4);
    // A browser that reads nothing while whole screens pile up: the gateway's socket queues the
    // pooled read buffers themselves, and must not reuse one before its bytes have left.
    // One request at a time, each once the last screen has reached the gateway: the VNC server
    // merges requests it has not answered yet.
    const frameBytes = direct.length;
    const pauses = async (): Promise<number> => metricValue(await scrapeMetrics(gw), 'porthole_backpressure_pauses_total', { kind: 'vnc' });
    const relayedBytes = async (): Promise<number> => {
      const res = await control(gw).get(`/builds/${world.builds.macRunning}/sessions`);
      const sessions = (res.body as LiveSessionsView).sessions.filter((s) => s.kind === 'vnc');
      return Math.max(0, ...sessions.map((s) => s.bytesToBrowser));
    };
    const pausesBefore = await pauses();
    const handshakeBytes = await relayedBytes();
    screen.ws.pause();
    let stacked = 0;
    while ((await pauses()) === pausesBefore) {
      assert.ok(stacked < MAX_STACKED_FRAMES, `the gateway never held back after ${stacked} screens`);
      screen.requestPixels(whole.x, whole.y, whole.width, whole.height);
      stacked += 1;
      await pollUntil('the screen relayed, or the gateway held back', 10_000, async () => (await relayedBytes()) - handshakeBytes >= stacked * frameBytes || (await pauses()) > pausesBefore);
    }
    screen.ws.resume();
    for (let i = 0; i < stacked; i += 1) assert.ok((await screen.nextPixels()).equals(direct), `screen ${i + 1} of ${stacked}: the relayed pixels differ from Xvnc's own`);
    assert.ok((await screen.readPixels(whole.x, whole.y, whole.width, whole.height)).equals(direct));
    screen.close();
  });

  test('a wrong VNC password: a generic SecurityResult failure, then 4004', async () => {
    await control(gw).put('/builds/mac-wrong-vnc', {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { host: '127.0.0.1', port: 22, username: 'vagrant', password: 'x' }, vnc: { host: xvnc.host, port: xvnc.port, password: 'wrongpw1' } },
    });
    const screen = await connectScreen(await ticket('mac-wrong-vnc'), gw);
    assert.deepEqual(screen.offeredTypes, [1]);
    assert.equal(screen.securityResult, 1);
    const closed = await screen.closed;
    assert.equal(closed.code, 4004);
    assert.match(closed.reason, /refused the screen login/);
    assert.equal(screen.securityReason, 'The build VM refused the screen login; its screen password may have changed. Rebuild with remote access if it persists.');
  });

  test('an unreachable VNC endpoint says it could not be reached, in the SecurityResult and the close', async () => {
    const closedPort = await freePort();
    await control(gw).put('/builds/mac-no-vnc', {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { host: '127.0.0.1', port: 22, username: 'vagrant', password: 'x' }, vnc: { host: '127.0.0.1', port: closedPort, password: 'whatever' } },
    });
    const screen = await connectScreen(await ticket('mac-no-vnc'), gw);
    assert.equal(screen.securityResult, 1);
    assert.equal(screen.securityReason, "The build VM's screen could not be reached; it may still be starting. Reconnect in a moment.");
    const closed = await screen.closed;
    assert.deepEqual(closed, { code: 4004, reason: "The build VM's screen could not be reached; it may still be starting. Reconnect in a moment." });
  });

  test('typing into the desktop terminal runs a command on the VM', async () => {
    const marker = `/tmp/porthole-typed-${randomBytes(6).toString('hex')}`;
    const screen = await connectScreen(await ticket(world.builds.macRunning), gw);
    const terminal = xvnc.terminal;
    assert.ok(terminal);
    screen.pointer(terminal.x + Math.floor(terminal.width / 2), terminal.y + Math.floor(terminal.height / 2));
    screen.typeText(`touch ${marker}\n`);
    await pollUntil('typed file', DESKTOP_EFFECT_TIMEOUT_MS, async () => existsSync(marker));
    screen.close();
  });

  test('view-only: the gateway drops pointer and key input', async () => {
    const marker = `/tmp/porthole-viewonly-${randomBytes(6).toString('hex')}`;
    const before = await pointerLocation();
    assert.notEqual(before, '3,3');
    const screen = await connectScreen(await ticket(world.builds.macRunning, { viewOnly: true }), gw);
    screen.pointer(3, 3);
    screen.typeText(`touch ${marker}\n`);
    // The update request travels behind the input on the same stream: once it is answered, Xvnc
    // has seen everything the gateway forwarded before it.
    const pixel = await screen.readPixels(1, 1, 1, 1);
    assert.equal(pixel.length, 4, 'framebuffer requests still pass');
    assert.equal(await pointerLocation(), before, 'view-only pointer never moved');
    // A normal connection's typing afterwards proves keys would have reached the shell by now.
    const probe = `/tmp/porthole-probe-${randomBytes(6).toString('hex')}`;
    const normal = await connectScreen(await ticket(world.builds.macRunning), gw);
    const terminal = xvnc.terminal;
    assert.ok(terminal);
    normal.pointer(terminal.x + 40, terminal.y + 40);
    normal.typeText(`touch ${probe}\n`);
    await pollUntil('probe file', DESKTOP_EFFECT_TIMEOUT_MS, async () => existsSync(probe));
    assert.equal(existsSync(marker), false, 'view-only keys never reached the VM');
    screen.close();
    normal.close();
  });

  test('a browser that leaves before the RFB greeting leaves no VM socket behind', async () => {
    const established = (): Promise<number> => establishedConnectionsTo(xvnc.host, xvnc.port);
    const before = await established();
    const t = await ticket(world.builds.macRunning);
    const ws = new WebSocket(t.url, [t.protocol, `porthole.ticket.${t.ticket}`], { headers: { Origin: gw.origin } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // The gateway has already started authenticating to the VM; leave before answering it.
    ws.close();
    await pollUntil('VM socket closed', DESKTOP_EFFECT_TIMEOUT_MS, async () => (await established()) <= before);
    await pollUntil('connection released', DESKTOP_EFFECT_TIMEOUT_MS, async () => gw.enforcer.size === 0);
  });

  test('a linux build refuses kind vnc; viewOnly is for screens only', async () => {
    const agent = await signIn(gw, world.users.owner);
    const linux = await agent.post(`/api/v1/builds/${world.builds.linuxRunning}/connections`).set('Origin', gw.origin).send({ kind: 'vnc' });
    assert.equal(linux.status, 400);
    assert.match(linux.body.error.message, /^kind: vnc is only available on macOS builds/);
    const sshViewOnly = await agent.post(`/api/v1/builds/${world.builds.macRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh', viewOnly: true });
    assert.equal(sshViewOnly.status, 400);
    const page = await agent.get(`/builds/${world.builds.linuxRunning}/screen`);
    assert.equal(page.status, 404);
  });

  test('an ssh ticket cannot open /ws/vnc, and refusals dial nothing', async () => {
    const agent = await signIn(gw, world.users.owner);
    const res = await agent.post(`/api/v1/builds/${world.builds.macRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh' });
    const sshTicket = res.body as Ticket;
    const before = dialer.dials.length;
    await assert.rejects(
      connectScreen({ ...sshTicket, url: sshTicket.url.replace('/ws/ssh', '/ws/vnc'), protocol: 'binary' }, gw),
      (error: unknown) => error instanceof UpgradeRefused && error.status === 401,
    );
    assert.equal(dialer.dials.length, before);
  });
});

describe('screen over an Apple-style server (ARD, type 30)', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  for (const [generator, keyLength] of [[2, 128], [5, 512]] as const) {
    test(`ARD with generator ${generator} and ${keyLength}-byte keys; input filtered when view-only`, async (t) => {
      const fake = await startFakeRfbServer({ username: 'runner', password: 'mac-secret-pw', generator, keyLength, securityTypes: [30, 33, 36, 2], fill: [200, 30, 40] });
      t.after(() => fake.stop());
      const world = await seedWorld(gw, { vnc: { host: fake.host, port: fake.port, password: 'mac-secret-pw' } });
      await control(gw).put(`/builds/ard-${keyLength}`, {
        appId: 'app-1',
        stack: 'macos',
        status: 'running',
        startedAt: new Date().toISOString(),
        remoteAccess: { ssh: { host: '127.0.0.1', port: 22, username: 'runner', password: 'x' }, vnc: { host: fake.host, port: fake.port, username: 'runner', password: 'mac-secret-pw' } },
      });
      const agent = await signIn(gw, world.users.owner);
      const mint = async (viewOnly: boolean): Promise<ScreenClient> => {
        const res = await agent.post(`/api/v1/builds/ard-${keyLength}/connections`).set('Origin', gw.origin).send({ kind: 'vnc', viewOnly });
        return connectScreen(res.body as Ticket, gw);
      };
      const screen = await mint(true);
      assert.deepEqual(screen.offeredTypes, [1]);
      assert.equal(screen.securityResult, 0);
      assert.equal(screen.serverInit?.name, 'Fake Mac');
      assert.deepEqual(fake.attempts.at(-1), { type: 30, ok: true, username: 'runner' });
      assert.deepEqual(fake.sharedFlags, [1], 'the gateway always asks for a shared session');
      screen.pointer(1, 1);
      screen.key(0x61, true);
      const pixel = await screen.readPixels(0, 0, 1, 1);
      assert.deepEqual([pixel[2], pixel[1], pixel[0]], [200, 30, 40]);
      const types = fake.clientMessages.map((m) => m[0]);
      assert.equal(types.includes(4) || types.includes(5), false, `no key or pointer events reached the VM: ${types.join(',')}`);
      screen.close();
    });
  }

  test('a wrong ARD password closes with 4004 and the reason stays in the gateway', async (t) => {
    const fake = await startFakeRfbServer({ username: 'runner', password: 'right-password', securityTypes: [30] });
    t.after(() => fake.stop());
    const world = await seedWorld(gw, { vnc: { host: fake.host, port: fake.port, password: 'wrong-password' } });
    await control(gw).put('/builds/ard-wrong', {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { host: '127.0.0.1', port: 22, username: 'runner', password: 'x' }, vnc: { host: fake.host, port: fake.port, username: 'runner', password: 'wrong-password' } },
    });
    const agent = await signIn(gw, world.users.owner);
    const res = await agent.post('/api/v1/builds/ard-wrong/connections').set('Origin', gw.origin).send({ kind: 'vnc' });
    const screen = await connectScreen(res.body as Ticket, gw);
    assert.equal(screen.securityResult, 1);
    assert.equal((await screen.closed).code, 4004);
    assert.deepEqual(fake.attempts.at(-1), { type: 30, ok: false, username: 'runner' });
    assert.equal(gw.rawLogs().includes('wrong-password'), false);
  });
});
