/**
 * Pairing on screens (issue #16), against a real TigerVNC Xvnc: a member's page watches another
 * member's screen on a VM connection of its own. Its frames arrive; its pointer and keys never
 * reach the X server (read there with xdotool) while the owner's do; handed control, its pointer
 * moves the VM's; the owner's end ends it with the owner's code and frees its VM connection.
 *
 * Ordering without sleeps: a FramebufferUpdateRequest travels behind a client's input on the same
 * stream, so once Xvnc has answered it, it has seen everything the gateway forwarded before it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberSessionsView } from '../../shared/src/api.js';
import { CloseCode } from '../../shared/src/protocol/close-codes.js';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { establishedConnectionsTo, runCommand } from '../helpers/daemon.js';
import { pollUntil } from '../helpers/ports.js';
import { auditEvents, waitForAudit } from '../helpers/ops.js';
import { connectScreen, type ScreenClient } from '../helpers/screen-client.js';
import { mintTicket, mintWatchTicket } from '../helpers/terminal-client.js';
import { tcpDialer } from '../../server/src/protocols/dialer.js';
import { ScreenBridge } from '../../server/src/protocols/vnc/bridge.js';
import { screenReadPool } from '../../server/src/protocols/vnc/protocol.js';
import { IGNORING_OBSERVER, type SessionObserver } from '../../server/src/protocols/session-observer.js';
import { closeWebSocket } from '../../server/src/protocols/frames.js';
import type { WatcherHandle } from '../../server/src/protocols/protocol.js';
import type { BuildRecord } from '../../server/src/store/store.js';

/** Bounds waits for effects on the X server (a file appearing, a VM socket closing). */
const DESKTOP_EFFECT_TIMEOUT_MS = 10_000;
/** The bound for access changes, as for any connection. */
const ACCESS_CLOSE_MS = 1_000;
/** Full 1024×768 raw frames (3 MiB each) a stalled watcher asks for, and the owner gets meanwhile: several times every buffer on the way. */
const STALLED_WATCHER_FRAMES = 10;

describe('watching a screen over a real Xvnc', { timeout: 60_000 }, () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let ownerAgent: TestAgent;
  let watcherAgent: TestAgent;
  const open: ScreenClient[] = [];

  before(async () => {
    xvnc = await startXvnc({ terminalWindow: true });
    gw = await startGateway();
    world = await seedWorld(gw, { vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    [ownerAgent, watcherAgent] = await Promise.all([signIn(gw, world.users.developer), signIn(gw, world.users.admin)]);
  });
  after(async () => {
    for (const screen of open) screen.close();
    await gw.close();
    await xvnc.stop();
  });

  async function pointerLocation(): Promise<string> {
    const { stdout } = await runCommand('/usr/bin/xdotool', ['getmouselocation'], { env: { ...process.env, DISPLAY: `:${xvnc.display}` } });
    const text = stdout.toString();
    return /x:(\d+) y:(\d+)/.exec(text)?.slice(1, 3).join(',') ?? text;
  }

  /** Everything the client sent before this call has reached Xvnc (or been dropped by the gateway). */
  async function settled(screen: ScreenClient): Promise<void> {
    await screen.readPixels(0, 0, 1, 1);
  }

  const vmConnections = (): Promise<number> => establishedConnectionsTo(xvnc.host, xvnc.port);

  /** Opens the owner's screen; its session id is its connection id, which RFB cannot carry and the audit trail names. */
  async function ownerScreen(): Promise<{ screen: ScreenClient; sessionId: string }> {
    const seen = new Set((await auditEvents(gw, { limit: 1000 })).map((e) => e.id));
    const screen = await connectScreen(await mintTicket(gw, ownerAgent, world.builds.macRunning, 'vnc'), gw);
    open.push(screen);
    const opened = await waitForAudit(gw, (e) => !seen.has(e.id) && e.event === 'connection_opened' && e.userId === world.users.developer.id && e.details['kind'] === 'vnc');
    return { screen, sessionId: String(opened.details['connectionId']) };
  }

  test("through the gateway: the watcher's frames arrive, its input is dropped, the owner's passes; the owner's end is the watcher's", async () => {
    const baseline = await vmConnections();
    const { screen: owner, sessionId } = await ownerScreen();

    const watcher = await connectScreen(await mintWatchTicket(gw, watcherAgent, world.builds.macRunning, sessionId, 'vnc'), gw);
    open.push(watcher);
    assert.equal(watcher.securityResult, 0);
    assert.deepEqual([watcher.serverInit?.width, watcher.serverInit?.height], [xvnc.width, xvnc.height]);
    assert.equal(await vmConnections(), baseline + 2, 'the watcher has a VM connection of its own, and the owner kept theirs');
    const pixel = await watcher.readPixels(2, 2, 1, 1);
    assert.equal(pixel.length, 4, "the watcher's frames arrive");

    const terminal = xvnc.terminal;
    assert.ok(terminal);
    const centre = { x: terminal.x + Math.floor(terminal.width / 2), y: terminal.y + Math.floor(terminal.height / 2) };
    owner.pointer(centre.x, centre.y);
    await settled(owner);
    assert.equal(await pointerLocation(), `${centre.x},${centre.y}`, "the owner's pointer moves the VM's");

    const marker = `/tmp/porthole-watcher-typed-${randomBytes(6).toString('hex')}`;
    watcher.typeText(`touch ${marker}\n`);
    watcher.pointer(3, 3);
    await settled(watcher);
    assert.equal(await pointerLocation(), `${centre.x},${centre.y}`, "the watcher's pointer never reached the VM");
    // The owner's typing afterwards proves keys would have reached the shell by now.
    const probe = `/tmp/porthole-owner-typed-${randomBytes(6).toString('hex')}`;
    owner.typeText(`touch ${probe}\n`);
    await pollUntil('probe file', DESKTOP_EFFECT_TIMEOUT_MS, async () => existsSync(probe));
    assert.equal(existsSync(marker), false, "the watcher's keys never reached the VM");

    const started = await waitForAudit(gw, (e) => e.event === 'watch_started' && e.details['sessionId'] === sessionId);
    assert.equal(started.userId, world.users.admin.id);
    assert.equal(started.details['ownerId'], world.users.developer.id);
    assert.equal(started.details['kind'], 'vnc');

    // A page closing without a code (1005, which may not be sent) ends its watchers with 1000; any other code is passed on.
    owner.close();
    assert.equal((await watcher.closed).code, 1000, "the owner's end is the watcher's end, with its code");
    const ended = await waitForAudit(gw, (e) => e.event === 'watch_ended' && e.details['sessionId'] === sessionId);
    assert.equal(ended.userId, world.users.admin.id);
    await pollUntil('both VM connections closed', DESKTOP_EFFECT_TIMEOUT_MS, async () => (await vmConnections()) === baseline);
  });

  test('from the build page: the screen is listed with its watcher; the owner lets it drive, takes it back and removes it over HTTP', async () => {
    const { screen: owner, sessionId } = await ownerScreen();
    const watcher = await connectScreen(await mintWatchTicket(gw, watcherAgent, world.builds.macRunning, sessionId, 'vnc'), gw);
    open.push(watcher);
    await settled(watcher);
    const list = `/api/v1/builds/${world.builds.macRunning}/live-sessions`;
    const listed = ((await watcherAgent.get(list).expect(200)).body as MemberSessionsView).sessions.find((x) => x.sessionId === sessionId);
    assert.ok(listed, 'a screen session is listed too');
    assert.equal(listed.kind, 'vnc');
    assert.deepEqual(listed.watchers, [{ userId: world.users.admin.id, name: world.users.admin.id, mode: 'watch', you: true }]);
    const path = `${list}/${sessionId}/watchers/${world.users.admin.id}`;

    owner.pointer(5, 5);
    await settled(owner);
    await ownerAgent.put(path).set('Origin', gw.origin).send({ mode: 'drive' }).expect(204);
    watcher.pointer(7, 9);
    await settled(watcher);
    assert.equal(await pointerLocation(), '7,9', "handed control, the watcher's pointer moves the VM's");
    const driving = ((await watcherAgent.get(list).expect(200)).body as MemberSessionsView).sessions.find((x) => x.sessionId === sessionId);
    assert.equal(driving?.watchers[0]?.mode, 'drive', 'the list says so, which is how a watching page learns it');

    await ownerAgent.put(path).set('Origin', gw.origin).send({ mode: 'watch' }).expect(204);
    watcher.pointer(11, 13);
    await settled(watcher);
    assert.equal(await pointerLocation(), '7,9', 'taken back, it is dropped again');

    await ownerAgent.delete(path).set('Origin', gw.origin).expect(204);
    assert.equal((await watcher.closed).code, CloseCode.removedByOwner);
    await settled(owner);
    owner.close();
  });

  test("a watcher that stops reading never slows the owner: the owner's full frames keep coming", async () => {
    const { screen: owner, sessionId } = await ownerScreen();
    const watcher = await connectScreen(await mintWatchTicket(gw, watcherAgent, world.builds.macRunning, sessionId, 'vnc'), gw);
    open.push(watcher);
    await watcher.readPixels(0, 0, 1, 1); // raw encoding from here on: each full frame is width × height × 4 bytes
    watcher.ws.pause();
    const fullFrame = Buffer.from([3, 0, 0, 0, 0, 0, xvnc.width >> 8, xvnc.width & 0xff, xvnc.height >> 8, xvnc.height & 0xff]);
    // One request ahead of each of the owner's, so Xvnc answers each on its own rather than merging them:
    // ~30 MiB for the watcher, far beyond the gateway's 8 MiB mark, so its VM connection must pause, not the owner's.
    for (let i = 0; i < STALLED_WATCHER_FRAMES; i += 1) {
      watcher.ws.send(fullFrame);
      const frame = await owner.readPixels(0, 0, xvnc.width, xvnc.height);
      assert.equal(frame.length, xvnc.width * xvnc.height * 4);
    }
    watcher.ws.resume();
    owner.close();
    await watcher.closed;
  });

  test('who may watch a screen: a tester is refused 403; a demoted watcher is dropped within 1 s, the owner stays', async () => {
    const { screen: owner, sessionId } = await ownerScreen();
    const tester = await (await signIn(gw, world.users.tester))
      .post(`/api/v1/builds/${world.builds.macRunning}/connections`)
      .set('Origin', gw.origin)
      .send({ kind: 'vnc', sessionId, mode: 'watch' });
    assert.deepEqual([tester.status, (tester.body as { error: { code: string } }).error.code], [403, 'role_forbidden']);

    const watcher = await connectScreen(await mintWatchTicket(gw, watcherAgent, world.builds.macRunning, sessionId, 'vnc'), gw);
    open.push(watcher);
    const started = Date.now();
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'tester' }).expect(200);
    try {
      assert.equal((await watcher.closed).code, 4001);
      assert.ok(Date.now() - started < ACCESS_CLOSE_MS, `${Date.now() - started} ms`);
      owner.pointer(30, 40);
      await settled(owner);
      assert.equal(await pointerLocation(), '30,40', 'the owner stays');
    } finally {
      await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    }
    owner.close();
  });

  test('a screen session that ended cannot be watched: 404 session_not_found', async () => {
    const { screen: owner, sessionId } = await ownerScreen();
    owner.close();
    await owner.closed;
    await waitForAudit(gw, (e) => e.event === 'connection_closed' && e.details['connectionId'] === sessionId);
    const res = await watcherAgent.post(`/api/v1/builds/${world.builds.macRunning}/connections`).set('Origin', gw.origin).send({ kind: 'vnc', sessionId, mode: 'watch' });
    assert.equal(res.status, 404);
    assert.equal((res.body as { error: { code: string } }).error.code, 'session_not_found');
  });

  describe('handing control over, at the bridge (ScreenBridge.setWatcherMode)', () => {
    let server: WebSocketServer;
    let bridge: ScreenBridge | null = null;
    let handle: WatcherHandle | null = null;
    const controls: [string, string][] = [];
    const WATCHER = { userId: 'u-watcher', name: 'Wendy Watcher' };

    before(async () => {
      const build = await gw.store.getBuild(world.builds.macRunning as BuildRecord['id']);
      assert.ok(build);
      const observer: SessionObserver = { ...IGNORING_OBSERVER, control: (userId, mode) => controls.push([userId, mode]) };
      server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'binary' });
      // The first page to connect owns the screen; the next one watches it, as the gateway's connection owners would join them.
      server.on('connection', (ws: WebSocket) => {
        const page = { ws, readGate: { stop: () => undefined } };
        if (!bridge) {
          bridge = new ScreenBridge({
            ...page,
            build,
            sessionId: '00000000000000aa',
            person: { userId: world.users.developer.id, name: 'Owner' },
            resumeSeconds: 0,
            viewOnly: false,
            dialer: tcpDialer,
            readPool: screenReadPool(),
            recorded: () => false,
            logger: pino({ level: 'silent' }),
            now: () => new Date(),
            observer,
            onInput: () => undefined,
            close: (code, reason) => closeWebSocket(ws, page.readGate, code, reason),
            rejectAttachment: () => undefined,
            openSecret: () => null,
            credentials: { username: null, password: xvnc.password },
          });
          void bridge.start();
          return;
        }
        handle = bridge.watch(page, WATCHER, (code, reason) => closeWebSocket(ws, page.readGate, code, reason));
      });
      await new Promise((resolve) => server.once('listening', resolve));
    });
    after(async () => {
      bridge?.stop();
      await new Promise((resolve) => server.close(resolve));
    });

    test("driving, the watcher's pointer moves the VM's; taken back, it is dropped again; control rows once per change", async () => {
      const baseline = await vmConnections();
      const { port } = server.address() as AddressInfo;
      const local = { url: `ws://127.0.0.1:${port}`, origin: 'http://127.0.0.1', controlToken: '' };
      const ticket = { ticket: 'unused', url: local.url, protocol: 'binary', expiresAt: '' };
      const owner = await connectScreen(ticket, local);
      open.push(owner);
      const watcher = await connectScreen(ticket, local);
      open.push(watcher);
      assert.ok(bridge && handle);
      const ownerBridge: ScreenBridge = bridge;
      const watcherHandle: WatcherHandle = handle;

      owner.pointer(100, 100);
      await settled(owner);
      assert.equal(await pointerLocation(), '100,100');
      watcher.pointer(7, 9);
      await settled(watcher);
      assert.equal(await pointerLocation(), '100,100', 'watching: dropped');

      assert.equal(ownerBridge.setWatcherMode(WATCHER.userId, 'drive'), true);
      watcher.pointer(7, 9);
      await settled(watcher);
      assert.equal(await pointerLocation(), '7,9', "driving: the watcher's pointer moves the VM's");
      assert.equal(ownerBridge.setWatcherMode(WATCHER.userId, 'drive'), true, 'already driving: still found');

      assert.equal(ownerBridge.setWatcherMode(WATCHER.userId, 'watch'), true);
      watcher.pointer(20, 30);
      await settled(watcher);
      assert.equal(await pointerLocation(), '7,9', 'taken back: dropped again');
      assert.equal(ownerBridge.setWatcherMode('u-nobody', 'drive'), false, 'no watcher of that user');
      assert.deepEqual(controls, [
        [WATCHER.userId, 'drive'],
        [WATCHER.userId, 'watch'],
      ]);

      const before = watcherHandle.relayed();
      assert.ok(before.toBrowser > 0 && before.fromBrowser > 0, "the watcher's own bytes are counted");
      watcherHandle.leave();
      watcherHandle.leave();
      await pollUntil("the watcher's VM connection closed", DESKTOP_EFFECT_TIMEOUT_MS, async () => (await vmConnections()) === baseline + 1);
      assert.equal(ownerBridge.setWatcherMode(WATCHER.userId, 'drive'), false, 'a watcher that left is gone');
      owner.pointer(50, 60);
      await settled(owner);
      assert.equal(await pointerLocation(), '50,60', 'the owner goes on');
    });
  });
});
