/**
 * Health probes and the graceful drain: in-process for readiness and refusals, and with the built
 * gateway as a real process receiving SIGTERM while 20 terminals are live.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, UpgradeRefused, type TerminalClient, type Ticket } from '../helpers/terminal-client.js';
import { metricValue, scrapeMetrics, waitForAudit } from '../helpers/ops.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { establishedConnectionsTo, isProcessRunning } from '../helpers/daemon.js';
import { pollUntil } from '../helpers/ports.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

const LIVE_SESSIONS = 20;
const DRAIN_SECONDS = 6;
/** sshd reaps the shells of closed channels promptly; this bounds a broken teardown. */
const CLEANUP_TIMEOUT_MS = 10_000;
/** Beyond the drain time, only a broken gateway is still running. */
const EXIT_WAIT_MS = (DRAIN_SECONDS + 10) * 1000;

describe('health and drain', () => {
  let sshd: SshdHandle;

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd.stop();
  });

  describe('in process', () => {
    let gw: TestGateway;
    let world: World;

    before(async () => {
      gw = await startGateway();
      world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    });
    after(() => gw.close());

    test('/healthz and /readyz answer without a session or token', async () => {
      const health = await request(gw.url).get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok' });
      const ready = await request(gw.url).get('/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
      assert.equal(ready.get('Cache-Control'), 'no-store');
    });

    test('draining: readiness fails, live terminals get 1001 with a reason, held sessions end, new upgrades are refused with 503', async () => {
      const agent = await signIn(gw, world.users.developer);
      const live = await connectTerminal(await mintTicket(gw, agent, 'build-linux'), gw);
      await live.waitForControl('ready');
      // A session held for a page that dropped: the drain ends it too, the node is going away.
      const held = await connectTerminal(await mintTicket(gw, agent, 'build-linux'), gw);
      const heldReady = await held.waitForControl('ready');
      assert.ok(heldReady.type === 'ready');
      held.ws.terminate();
      await held.closed;
      await waitForAudit(gw, (e) => e.event === 'session_detached' && e.details['connectionId'] === heldReady.sessionId);
      const spare = await mintTicket(gw, agent, 'build-linux');

      const drained = gw.app.drain();
      const ready = await request(gw.url).get('/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, { status: 'draining' });
      assert.equal((await request(gw.url).get('/healthz')).status, 200, 'still alive while draining');
      assert.deepEqual(await live.closed, { code: 1001, reason: 'gateway restarting' });

      await assert.rejects(connectTerminal(spare, gw), (error: unknown) => {
        assert.ok(error instanceof UpgradeRefused);
        assert.equal(error.status, 503);
        assert.equal(JSON.parse(error.body).error.code, 'draining');
        return true;
      });
      await drained;
      // This refusal came after the drain's own flush; the process writes it at shutdown.
      await gw.app.audit.flush();
      const refused = await waitForAudit(gw, (e) => e.event === 'ticket_refused' && e.details['reason'] === 'draining');
      assert.equal(refused.userId, null, 'refused before the ticket is even read');
      assert.deepEqual(
        { stage: refused.details['stage'], reason: refused.details['reason'], kind: refused.details['kind'], count: refused.details['count'] },
        { stage: 'redeem', reason: 'draining', kind: 'ssh', count: 1 },
        'counted per client address, and written by the drain',
      );
      const liveReady = live.controls.find((c) => c.type === 'ready');
      assert.ok(liveReady?.type === 'ready');
      for (const id of [liveReady.sessionId, heldReady.sessionId]) {
        const closed = await waitForAudit(gw, (e) => e.event === 'connection_closed' && e.details['connectionId'] === id, { buildId: 'build-linux' });
        assert.equal(closed.details['closeCode'], 1001);
      }
      assert.equal(metricValue(await scrapeMetrics(gw), 'porthole_sessions_held', { kind: 'ssh' }), 0, 'nothing is left held');
      assert.equal(metricValue(await scrapeMetrics(gw), 'porthole_draining'), 1);
    });

    test('/readyz fails when the store does not answer', async () => {
      const broken = await startGateway();
      try {
        await broken.store.close();
        const res = await request(broken.url).get('/readyz');
        assert.equal(res.status, 503);
        assert.deepEqual(res.body, { status: 'store_unreachable' });
      } finally {
        await broken.close();
      }
    });
  });

  describe('a real gateway process', () => {
    test(`SIGTERM with ${LIVE_SESSIONS} live terminals: every one gets 1001, the VM sessions end, the process exits well within the drain time`, async () => {
      const gw = await startGatewayProcess({ PORTHOLE_DRAIN_SECONDS: String(DRAIN_SECONDS), PORTHOLE_MAX_CONNECTIONS_PER_USER: String(LIVE_SESSIONS) });
      try {
        const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
        const agent = await signIn(gw, world.users.developer);
        const terminals: TerminalClient[] = [];
        for (let i = 0; i < LIVE_SESSIONS; i++) terminals.push(await connectTerminal(await mintTicket(gw, agent, 'build-linux'), gw));
        const pids = await Promise.all(
          terminals.map(async (t) => {
            await t.waitForControl('ready');
            t.type('echo "pid=$$"\r');
            return (await t.waitForOutput(/[\r\n]pid=(\d+)\r\n/))[1] ?? '';
          }),
        );
        assert.ok(pids.every((pid) => isProcessRunning(pid)));
        assert.ok((await establishedConnectionsTo(sshd.host, sshd.port)) >= LIVE_SESSIONS);

        const signalled = Date.now();
        process.kill(gw.process.pid, 'SIGTERM');
        const closes = await Promise.all(terminals.map((t) => t.closed));
        const exit = await gw.exitWithin(EXIT_WAIT_MS);
        const elapsed = Date.now() - signalled;

        assert.deepEqual(closes, Array.from({ length: LIVE_SESSIONS }, () => ({ code: 1001, reason: 'gateway restarting' })));
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.ok(elapsed < DRAIN_SECONDS * 1000, `exited ${elapsed} ms after SIGTERM`);
        console.log(`${LIVE_SESSIONS} live terminals drained; exit ${elapsed} ms after SIGTERM`);
        const events = gw.logs().map((l) => l['event']);
        assert.ok(events.includes('drain_started') && events.includes('shutdown'));
        assert.equal(events.includes('drain_timeout'), false, 'everything closed before the deadline');
        assert.equal(events.filter((e) => e === 'connection_closed').length, LIVE_SESSIONS, 'every close was recorded before exit');
        await pollUntil('VM sessions ended', CLEANUP_TIMEOUT_MS, async () => pids.every((pid) => !isProcessRunning(pid)));
        await pollUntil('VM connections closed', CLEANUP_TIMEOUT_MS, async () => (await establishedConnectionsTo(sshd.host, sshd.port)) === 0);
      } finally {
        await gw.stop();
      }
    });

    test('a browser that never answers the close does not hold the process past the drain time', async () => {
      const gw = await startGatewayProcess({ PORTHOLE_DRAIN_SECONDS: String(DRAIN_SECONDS) });
      try {
        const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
        const agent = await signIn(gw, world.users.developer);
        const stubborn = await rawUpgrade(gw.url, gw.origin, await mintTicket(gw, agent, 'build-linux'));
        const signalled = Date.now();
        process.kill(gw.process.pid, 'SIGTERM');
        const exit = await gw.exitWithin(EXIT_WAIT_MS);
        const elapsed = Date.now() - signalled;
        stubborn.destroy();
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.ok(elapsed < DRAIN_SECONDS * 1000, `exited ${elapsed} ms after SIGTERM`);
        assert.ok(elapsed >= (DRAIN_SECONDS - 1) * 1000 - 100, `waited for the stubborn browser until the cut (${elapsed} ms)`);
        assert.ok(gw.logs().some((l) => l['event'] === 'drain_timeout'));
      } finally {
        await gw.stop();
      }
    });
  });
});

/**
 * The process's exit, waited for with a timer of our own: the child is unref'd, so without one
 * the test runner would see an idle event loop and give up on the test.
 */

/**
 * A WebSocket client that completes the upgrade and then never reads or answers anything: the
 * gateway's close frame is never acknowledged.
 */
function rawUpgrade(url: string, origin: string, ticket: Ticket): Promise<net.Socket> {
  const target = new URL(ticket.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nOrigin: ${origin}\r\n` +
          `Sec-WebSocket-Protocol: ${ticket.protocol}, ${TICKET_SUBPROTOCOL_PREFIX}${ticket.ticket}\r\n\r\n`,
      );
    });
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      // From here on nothing is read: the close frame sits unanswered.
      socket.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`));
    };
    socket.on('data', onData);
  });
}
