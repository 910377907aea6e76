/**
 * The WebSocket door: cross-site hijacking attempts, ticket abuse (replay, expiry, rebinding, a
 * thousand concurrent redemptions) and server-side request forgery through every field a client
 * controls. The VM is a real sshd; a spy dialer records every dial the gateway makes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { spyDialer, type SpyDialer } from '../helpers/spy-dialer.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { attemptUpgrade, ticketProtocols, type UpgradeOutcome } from '../helpers/upgrade-probe.js';
import { BrowserExposure } from '../helpers/exposure.js';
import { SSH_SUBPROTOCOL } from '../../shared/src/protocol/ssh-v1.js';
import { TICKET_TTL_MS } from '../../server/src/connections/tickets.js';

/** An extra origin the deployment trusts, so look-alikes of a real https name can be tried. */
const DASHBOARD_ORIGIN = 'https://gateway.example';
const CONCURRENT_REDEMPTIONS = 1000;

let sshd: SshdHandle;
let gw: TestGateway;
let world: World;
let dialer: SpyDialer;
let owner: TestAgent;
const exposure = new BrowserExposure();
const tried = { origins: 0, tickets: 0, ssrf: 0 };

before(async () => {
  dialer = spyDialer();
  sshd = await startSshd();
  // Enough slots for the thousand redemptions below; the cap itself is tested elsewhere.
  gw = await startGateway({ PORTHOLE_ALLOWED_ORIGINS: DASHBOARD_ORIGIN, PORTHOLE_MAX_CONNECTIONS_PER_USER: '2000' }, { dialer });
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  owner = await signIn(gw, world.users.owner);
});
after(async () => {
  exposure.assertNoneOf({ 'VM ssh password': world.vmSecrets.sshPassword }, gw.rawLogs());
  await gw.close();
  await sshd.stop();
  process.stdout.write(`# websocket gate: ${tried.origins} hostile origins, ${tried.tickets} ticket abuses, ${tried.ssrf} SSRF probes\n`);
});

function wsUrl(kind: 'ssh' | 'vnc', buildId: string, extraQuery = ''): string {
  return `${gw.url.replace('http', 'ws')}/ws/${kind}?build=${encodeURIComponent(buildId)}${extraQuery}`;
}

function recordOutcome(outcome: UpgradeOutcome): void {
  if (!outcome.opened) exposure.record(outcome.body);
}

async function freshTicket(buildId = world.builds.linuxRunning, kind: 'ssh' | 'vnc' = 'ssh'): Promise<string> {
  const t = await mintTicket(gw, owner, buildId, kind);
  exposure.record(JSON.stringify(t));
  return t.ticket;
}

describe('cross-site WebSocket hijacking', () => {
  test('hostile, null, missing, look-alike, other-scheme and other-port Origins are refused before the upgrade', async () => {
    const port = new URL(gw.url).port;
    const hostile: (string | undefined)[] = [
      'https://evil.example',
      'null',
      undefined,
      'https://gateway.example.evil',
      'https://evil-gateway.example',
      'https://gateway.example.',
      'https://gateway.example:8443',
      'http://gateway.example',
      'wss://gateway.example',
      `http://127.0.0.1:${port}.evil.example`,
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `http://localhost:${port}`,
      `http://[::1]:${port}`,
      `HTTP://127.0.0.1:${port}`,
      `http://127.0.0.1:${port}/`,
      `${gw.origin}, https://evil.example`,
      '',
    ];
    const ticket = await freshTicket();
    const dials = dialer.dials.length;
    for (const kind of ['ssh', 'vnc'] as const) {
      for (const origin of hostile) {
        const outcome = await attemptUpgrade({ url: wsUrl(kind, world.builds.macRunning), protocols: ticketProtocols(kind === 'ssh' ? SSH_SUBPROTOCOL : 'binary', ticket), ...(origin === undefined ? {} : { origin }) });
        recordOutcome(outcome);
        tried.origins += 1;
        assert.equal(outcome.opened, false, `origin ${String(origin)} was let in`);
        if (!outcome.opened) {
          assert.equal(outcome.status, 403, `origin ${String(origin)}`);
          assert.equal((JSON.parse(outcome.body) as { error: { code: string } }).error.code, 'forbidden_origin');
        }
      }
    }
    assert.equal(dialer.dials.length, dials);
    // Refused before the ticket was looked at: the rightful page can still use it.
    const t = await connectTerminal({ ticket, url: wsUrl('ssh', world.builds.linuxRunning), protocol: SSH_SUBPROTOCOL, expiresAt: '' }, gw);
    await t.waitForControl('ready');
    t.close();
  });
});

describe('tickets', () => {
  async function refusedWith(ticket: string, options: { kind?: 'ssh' | 'vnc'; buildId?: string; origin?: string; agent?: string } = {}): Promise<number> {
    const kind = options.kind ?? 'ssh';
    const outcome = await attemptUpgrade({
      url: wsUrl(kind, options.buildId ?? world.builds.linuxRunning),
      origin: options.origin ?? gw.origin,
      protocols: ticketProtocols(kind === 'ssh' ? SSH_SUBPROTOCOL : 'binary', ticket),
      ...(options.agent ? { headers: { Cookie: options.agent } } : {}),
    });
    recordOutcome(outcome);
    tried.tickets += 1;
    if (outcome.opened) {
      outcome.ws.terminate();
      return 101;
    }
    return outcome.status;
  }

  test('replayed, expired, and rebound tickets are refused without a dial', async () => {
    const dials = dialer.dials.length;
    // Replay: the first use opens, the second is refused.
    const once = await freshTicket();
    const first = await connectTerminal({ ticket: once, url: wsUrl('ssh', world.builds.linuxRunning), protocol: SSH_SUBPROTOCOL, expiresAt: '' }, gw);
    await first.waitForControl('ready');
    const dialsAfterFirst = dialer.dials.length;
    assert.equal(dialsAfterFirst, dials + 1);
    assert.equal(await refusedWith(once), 401);
    first.close();

    // Expiry: the gateway's clock moves past the ticket's lifetime.
    const stale = await freshTicket();
    gw.setNow(new Date(Date.now() + TICKET_TTL_MS + 1000));
    try {
      assert.equal(await refusedWith(stale), 401);
    } finally {
      gw.setNow(null);
    }
    // Another build, another kind, another origin (one the deployment does allow).
    assert.equal(await refusedWith(await freshTicket(), { buildId: world.builds.macRunning }), 401);
    assert.equal(await refusedWith(await freshTicket(world.builds.macRunning, 'ssh'), { buildId: world.builds.macRunning, kind: 'vnc' }), 401);
    assert.equal(await refusedWith(await freshTicket(), { origin: DASHBOARD_ORIGIN }), 401);
    // Another user: the developer's signed-in browser presents the owner's ticket.
    const developer = await signIn(gw, world.users.developer);
    const cookie = (await developer.get('/api/v1/builds/build-linux/window')).request.cookies;
    assert.ok(cookie.length > 0);
    assert.equal(await refusedWith(await freshTicket(), { agent: cookie }), 401);
    // Made-up and malformed tickets.
    // (Subprotocol tokens cannot carry spaces or slashes; browsers refuse to send those.)
    for (const forged of ['x', 'A'.repeat(43), 'A'.repeat(5000), '..', '%00', 'porthole.ticket.nested', `${once}x`]) {
      assert.equal(await refusedWith(forged), 401);
    }
    assert.equal(dialer.dials.length, dialsAfterFirst);
  });

  test(`${CONCURRENT_REDEMPTIONS} concurrent redemptions of one ticket: exactly one succeeds`, async () => {
    const ticket = await freshTicket();
    const dials = dialer.dials.length;
    const outcomes = await Promise.all(
      Array.from({ length: CONCURRENT_REDEMPTIONS }, () => attemptUpgrade({ url: wsUrl('ssh', world.builds.linuxRunning), origin: gw.origin, protocols: ticketProtocols(SSH_SUBPROTOCOL, ticket) })),
    );
    tried.tickets += CONCURRENT_REDEMPTIONS;
    const opened = outcomes.filter((o) => o.opened);
    assert.equal(opened.length, 1);
    assert.ok(outcomes.every((o) => o.opened || o.status === 401));
    for (const o of outcomes) {
      recordOutcome(o);
      if (o.opened) o.ws.close();
    }
    assert.equal(dialer.dials.length, dials + 1);
  });
});

describe('no server-side request forgery', () => {
  test('host, port, target and url in body, query, headers and messages are ignored', async () => {
    const registered = { host: sshd.host, port: sshd.port };
    const planted = { host: '10.1.2.3', port: 25, target: '10.1.2.3:25', url: 'ws://10.1.2.3:25/' };
    const plantedQuery = '&host=10.1.2.3&port=25&target=10.1.2.3%3A25&url=ws%3A%2F%2F10.1.2.3%3A25%2F';
    const plantedHeaders = {
      'X-Forwarded-Host': '10.1.2.3:25',
      'X-Target': '10.1.2.3:25',
      'X-Host': '10.1.2.3',
      'X-Port': '25',
      Forwarded: 'host=10.1.2.3:25',
    };
    const dialsBefore = dialer.dials.length;
    const res = await owner
      .post(`/api/v1/builds/${world.builds.linuxRunning}/connections?${plantedQuery.slice(1)}`)
      .set('Origin', gw.origin)
      .set(plantedHeaders)
      .send({ kind: 'ssh', ...planted });
    exposure.recordResponse(res);
    tried.ssrf += 1;
    assert.equal(res.status, 201);
    const body = res.body as { ticket: string; url: string };
    assert.equal(new URL(body.url).host, new URL(gw.url).host, 'the WebSocket URL comes from configuration, not from the request');
    const outcome = await attemptUpgrade({ url: `${body.url}${plantedQuery}`, origin: gw.origin, protocols: ticketProtocols(SSH_SUBPROTOCOL, body.ticket), headers: plantedHeaders });
    assert.ok(outcome.opened);
    tried.ssrf += 1;
    const ws = outcome.ws;
    let output = '';
    let sawAnswer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (sawAnswer = resolve));
    ws.on('message', (data: Buffer, isBinary) => {
      exposure.record(data);
      if (!isBinary) return;
      output += data.toString('latin1');
      if (output.includes('ssrf-42')) sawAnswer();
      ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
    });
    // Extra fields on valid control messages are ignored; the session keeps working.
    ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30, ...planted }));
    ws.send(JSON.stringify({ type: 'ack', bytes: 0, ...planted }));
    ws.send(Buffer.from('echo ssrf-$((40+2))\r'));
    tried.ssrf += 2;
    await answered;
    // A message asking to connect elsewhere is not part of the protocol: closed, nothing dialled.
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ type: 'connect', ...planted }));
    tried.ssrf += 1;
    assert.equal(await closed, 1008);
    assert.deepEqual(
      dialer.dials.slice(dialsBefore).map((d) => ({ host: d.host, port: d.port })),
      [registered],
    );
  });
});
