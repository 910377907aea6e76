/**
 * Abuse of the HTTP handshake itself: thousands of headers, headers dribbled byte by byte, a
 * thousand unauthenticated upgrades at once, and one user opening more connections than allowed.
 * The gateway must answer each with a clear refusal, dial nothing, and keep serving others.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, signIn, type World } from '../helpers/seed.js';
import { spyDialer, type SpyDialer } from '../helpers/spy-dialer.js';
import { mintTicket, type Ticket } from '../helpers/terminal-client.js';
import { attemptUpgrade, ticketProtocols } from '../helpers/upgrade-probe.js';
import { pollUntil } from '../helpers/ports.js';
import { BrowserExposure } from '../helpers/exposure.js';
import { startTarpit, type Tarpit } from '../helpers/tarpit.js';
import { SSH_SUBPROTOCOL } from '../../shared/src/protocol/ssh-v1.js';

/** Short, so the slow-header case ends quickly; production uses HEADERS_TIMEOUT_MS (10 s). */
const TEST_HEADERS_TIMEOUT_MS = 1_000;
const SLOW_CLIENTS = 100;
const UNAUTHENTICATED_UPGRADES = 1_000;
const CONNECTION_CAP = 10;

let gw: TestGateway;
let world: World;
let dialer: SpyDialer;
let tarpit: Tarpit;
const exposure = new BrowserExposure();

before(async () => {
  tarpit = await startTarpit();
  dialer = spyDialer();
  gw = await startGateway({ PORTHOLE_MAX_CONNECTIONS_PER_USER: String(CONNECTION_CAP) }, { dialer, headersTimeoutMs: TEST_HEADERS_TIMEOUT_MS });
  // A VM that accepts and never answers keeps every connection in set-up: live, but cheap.
  world = await seedWorld(gw, { ssh: { host: '127.0.0.1', port: tarpit.port, username: 'runner', password: 'handshake-abuse-pw', hostKey: null } });
});
after(async () => {
  exposure.assertNoneOf({ 'VM ssh password': world.vmSecrets.sshPassword }, gw.rawLogs());
  await gw.close();
  await tarpit.close();
});

/** Sends raw bytes and collects the whole answer until the gateway closes the socket. */
function rawExchange(payload: string): Promise<string> {
  const { port } = new URL(gw.url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(answer));
    socket.end(payload);
  });
}

async function stillServing(): Promise<void> {
  const res = await fetch(`${gw.url}/login`);
  assert.equal(res.status, 200);
}

describe('oversized and endless heads', () => {
  test('thousands of headers: 431 for requests and upgrades, then business as usual', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(8)}`).join('\r\n');
    const plain = await rawExchange(`GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}\r\n\r\n`);
    assert.match(plain, /^HTTP\/1\.1 431 /);
    const upgrade = await rawExchange(
      `GET /ws/ssh?build=build-linux HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${many}\r\n\r\n`,
    );
    assert.match(upgrade, /^HTTP\/1\.1 431 /);
    // Many small headers under the size limit: extras are dropped, the request still gets an answer.
    const countOnly = Array.from({ length: 1500 }, (_, i) => `a${i}: b`).join('\r\n');
    assert.match(await rawExchange(`GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${countOnly}\r\n\r\n`), /^HTTP\/1\.1 200 /);
    await stillServing();
  });

  test(`${SLOW_CLIENTS} clients dribbling headers are cut off at the headers timeout`, async () => {
    const { port } = new URL(gw.url);
    const started = performance.now();
    const cutOff = await Promise.all(
      Array.from(
        { length: SLOW_CLIENTS },
        (_, i) =>
          new Promise<number>((resolve) => {
            const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
            socket.on('error', () => undefined);
            const head = `GET /ws/ssh?build=build-linux HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow-${i}: ${'z'.repeat(10_000)}`;
            let sent = 0;
            // The attack itself: one byte per tick of this timer, never finishing the head.
            const drip = setInterval(() => {
              if (sent < head.length && !socket.destroyed) socket.write(head[sent++] ?? '');
            }, 50);
            socket.once('close', () => {
              clearInterval(drip);
              resolve(performance.now() - started);
            });
          }),
      ),
    );
    const slowest = Math.max(...cutOff);
    // Node checks the timeout once per TIMEOUT_CHECK_INTERVAL_MS (capped at the timeout here).
    assert.ok(slowest < TEST_HEADERS_TIMEOUT_MS * 3, `a slow client lasted ${slowest.toFixed(0)} ms`);
    await stillServing();
  });
});

describe('unauthenticated upgrades and the per-user cap', () => {
  test(`${UNAUTHENTICATED_UPGRADES} unauthenticated upgrades at once are refused without a dial`, async () => {
    const dials = dialer.dials.length;
    const base = gw.url.replace('http', 'ws');
    const outcomes = await Promise.all(
      Array.from({ length: UNAUTHENTICATED_UPGRADES }, (_, i) =>
        attemptUpgrade({
          url: `${base}/ws/${i % 2 === 0 ? 'ssh' : 'vnc'}?build=build-mac`,
          ...(i % 3 === 0 ? {} : { origin: gw.origin }),
          protocols: i % 5 === 0 ? [SSH_SUBPROTOCOL] : ticketProtocols(i % 2 === 0 ? SSH_SUBPROTOCOL : 'binary', `guess-${i}`),
        }),
      ),
    );
    const statuses = new Map<number, number>();
    for (const o of outcomes) {
      assert.equal(o.opened, false);
      if (!o.opened) {
        exposure.record(o.body);
        statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
        assert.ok([400, 401, 403].includes(o.status), `status ${o.status}`);
      }
    }
    assert.equal(dialer.dials.length, dials);
    process.stdout.write(`# unauthenticated upgrades: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}\n`);
    await stillServing();
  });

  test(`one user holds at most ${CONNECTION_CAP} live connections; others are unaffected`, async () => {
    const developer: TestAgent = await signIn(gw, world.users.developer);
    const admin: TestAgent = await signIn(gw, world.users.admin);
    const open = async (agent: TestAgent, buildId: string): Promise<Awaited<ReturnType<typeof attemptUpgrade>>> => {
      const t = await mintTicket(gw, agent, buildId);
      const outcome = await attemptUpgrade({ url: t.url, origin: gw.origin, protocols: ticketProtocols(t.protocol, t.ticket) });
      if (!outcome.opened) exposure.record(outcome.body);
      return outcome;
    };
    const held = [];
    const dialsBefore = dialer.dials.length;
    for (let i = 0; i < CONNECTION_CAP - 1; i += 1) {
      const o = await open(developer, i % 2 === 0 ? world.builds.linuxRunning : world.builds.macRunning);
      assert.ok(o.opened, `connection ${i + 1} refused`);
      held.push(o.ws);
    }
    // Two tickets minted while one slot is left: the upgrades race for it, and the loser is
    // refused at the upgrade, before any dial.
    const [a, b] = [await mintTicket(gw, developer, world.builds.linuxRunning), await mintTicket(gw, developer, world.builds.linuxRunning)];
    // Each held connection dials just after its upgrade answer: count from when all have.
    await pollUntil('the held connections dial', 5_000, async () => dialer.dials.length >= dialsBefore + CONNECTION_CAP - 1);
    const dials = dialer.dials.length;
    const [first, second] = await Promise.all([a, b].map((t) => attemptUpgrade({ url: t.url, origin: gw.origin, protocols: ticketProtocols(t.protocol, t.ticket) })));
    const winners = [first, second].filter((o) => o?.opened);
    const losers = [first, second].filter((o) => o && !o.opened);
    assert.equal(winners.length, 1);
    for (const w of winners) if (w?.opened) held.push(w.ws);
    for (const l of losers) {
      if (l && !l.opened) {
        exposure.record(l.body);
        assert.equal(l.status, 429);
        assert.equal((JSON.parse(l.body) as { error: { code: string } }).error.code, 'too_many_connections');
      }
    }
    // The winner's dial starts just after its upgrade answer: wait for it, then count.
    await pollUntil('the winner dials', 5_000, async () => dialer.dials.length > dials);
    assert.equal(dialer.dials.length, dials + 1, 'only the winner dialled');
    // At the cap, the page learns it when it asks for a ticket: a clear 429 before any upgrade.
    const mint = await developer.post(`/api/v1/builds/${world.builds.linuxRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh' });
    exposure.recordResponse(mint);
    assert.equal(mint.status, 429);
    assert.equal((mint.body as { error: { code: string } }).error.code, 'too_many_connections');
    // Another user is not affected by the developer's connections.
    const other = await open(admin, world.builds.linuxRunning);
    assert.ok(other.opened);
    other.ws.close();
    // Closing one frees its slot: asking for a ticket stops answering 429 (a refused ask changes
    // nothing, so asking again is safe). Any VM hang-up is no signal here: the tarpit also sees
    // the SSH handshakes of the held connections time out.
    const oldest = held.shift();
    assert.ok(oldest);
    oldest.close();
    let freed: Ticket | null = null;
    await pollUntil('the freed slot is given back', 10_000, async () => {
      const res = await developer.post(`/api/v1/builds/${world.builds.linuxRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh' });
      if (res.status === 201) freed = res.body as Ticket;
      return freed !== null;
    });
    const ticket = freed as Ticket | null;
    assert.ok(ticket);
    const again = await attemptUpgrade({ url: ticket.url, origin: gw.origin, protocols: ticketProtocols(ticket.protocol, ticket.ticket) });
    assert.ok(again.opened, 'a freed slot was not given back');
    held.push(again.ws);
    for (const ws of held) ws.terminate();
  });
});
