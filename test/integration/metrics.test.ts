/** Prometheus metrics: who may scrape, and that the numbers move with a real terminal session. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { metricValue, scrapeMetrics } from '../helpers/ops.js';
import { pollUntil } from '../helpers/ports.js';

/** A flood fills the unacknowledged allowance in well under this. */
const PAUSE_TIMEOUT_MS = 10_000;

describe('metrics', () => {
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

  test('/metrics needs the bearer token; PORTHOLE_METRICS_TOKEN replaces the control token; none at all disables it', async () => {
    assert.equal((await request(gw.url).get('/metrics')).status, 401);
    assert.equal((await request(gw.url).get('/metrics').set('Authorization', 'Bearer not-the-token-at-all')).status, 401);
    const ok = await request(gw.url).get('/metrics').set('Authorization', `Bearer ${gw.controlToken}`);
    assert.equal(ok.status, 200);
    assert.match(ok.get('Content-Type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(ok.text, /^# HELP porthole_connections_live /m);
    assert.match(ok.text, /^nodejs_eventloop_lag_seconds \d/m, 'event-loop delay');
    assert.match(ok.text, /^nodejs_eventloop_lag_p99_seconds \d/m);

    const own = await startGateway({ PORTHOLE_METRICS_TOKEN: 'metrics-token-0123456789' });
    const off = await startGateway({ PORTHOLE_CONTROL_TOKEN: '' });
    try {
      assert.equal((await request(own.url).get('/metrics').set('Authorization', `Bearer ${own.controlToken}`)).status, 401);
      assert.equal((await request(own.url).get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789')).status, 200);
      // Prometheus asks for text, so refusals come as JSON, not as an HTML page.
      const disabled = await request(off.url).get('/metrics').set('Accept', 'text/plain').set('Authorization', 'Bearer anything-at-all-here');
      assert.equal(disabled.status, 503);
      assert.equal(disabled.body.error.code, 'metrics_disabled');
    } finally {
      await Promise.all([own.close(), off.close()]);
    }
  });

  test('a terminal session moves connections, close codes, bytes, tickets, refusals, logins and connect latency', async () => {
    const before = await scrapeMetrics(gw);
    const value = (text: string, name: string, labels: Record<string, string> = {}): number => metricValue(text, name, labels);

    const tester = await signIn(gw, world.users.tester);
    assert.equal((await tester.post('/api/v1/builds/build-linux/connections').set('Origin', gw.origin).send({ kind: 'ssh' })).status, 403);
    const agent = await signIn(gw, world.users.developer);
    const t = await connectTerminal(await mintTicket(gw, agent, 'build-linux'), gw);
    await t.waitForControl('ready');
    const typed = 'echo metrics-$((3*3))\r';
    t.type(typed);
    await t.waitForOutput(/[\r\n]metrics-9\r\n/);
    const during = await scrapeMetrics(gw);
    assert.equal(value(during, 'porthole_connections_live', { kind: 'ssh' }), value(before, 'porthole_connections_live', { kind: 'ssh' }) + 1);
    t.ws.close(1000);
    await t.closed;
    let after = '';
    await pollUntil('connection counted as closed', PAUSE_TIMEOUT_MS, async () => {
      after = await scrapeMetrics(gw);
      return value(after, 'porthole_connections_closed_total', { kind: 'ssh', code: '1000', closed_by: 'browser' }) > value(before, 'porthole_connections_closed_total', { kind: 'ssh', code: '1000', closed_by: 'browser' });
    });

    const moved = (name: string, labels: Record<string, string> = {}): number => value(after, name, labels) - value(before, name, labels);
    assert.equal(moved('porthole_connections_opened_total', { kind: 'ssh' }), 1);
    assert.equal(moved('porthole_connections_closed_total', { kind: 'ssh', code: '1000', closed_by: 'browser' }), 1);
    assert.equal(value(after, 'porthole_connections_live', { kind: 'ssh' }), value(before, 'porthole_connections_live', { kind: 'ssh' }));
    assert.equal(moved('porthole_connection_bytes_total', { kind: 'ssh', direction: 'to_browser' }), t.outputBytes().length);
    assert.equal(moved('porthole_connection_bytes_total', { kind: 'ssh', direction: 'from_browser' }), Buffer.byteLength(typed));
    assert.equal(moved('porthole_tickets_minted_total', { kind: 'ssh' }), 1);
    assert.equal(moved('porthole_tickets_refused_total', { stage: 'mint', reason: 'role_forbidden' }), 1);
    assert.equal(moved('porthole_logins_total', { outcome: 'succeeded' }), 2);
    assert.equal(moved('porthole_upstream_connect_seconds_count', { kind: 'ssh', outcome: 'connected' }), 1);
    assert.ok(moved('porthole_upstream_connect_seconds_sum', { kind: 'ssh', outcome: 'connected' }) > 0);
  });

  test('a browser that stops acknowledging output is counted as a backpressure pause', async () => {
    const before = metricValue(await scrapeMetrics(gw), 'porthole_backpressure_pauses_total', { kind: 'ssh' });
    const agent = await signIn(gw, world.users.developer);
    const t = await connectTerminal(await mintTicket(gw, agent, 'build-linux'), gw, { ack: false });
    await t.waitForControl('ready');
    t.type('yes porthole-metrics\r');
    await pollUntil('a pause counted', PAUSE_TIMEOUT_MS, async () => metricValue(await scrapeMetrics(gw), 'porthole_backpressure_pauses_total', { kind: 'ssh' }) > before);
    t.close();
    await t.closed;
  });
});
