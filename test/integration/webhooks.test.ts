/**
 * Webhooks (issue #20) end to end: a real terminal on a real sshd, a real receiver on loopback
 * verifying signatures with `standardwebhooks`' own `Webhook.verify`, and an outage spanning a
 * gateway restart on the same SQLite file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startGateway, type GatewayAddress, type TestGateway } from '../helpers/gateway.js';
import { registerClosingBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { pollUntil } from '../helpers/ports.js';
import { deliveriesSettled, startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import type { WebhookDeliveriesView } from '../../shared/src/api.js';

/** Retries are due at whole seconds; polling faster only makes the test quicker to notice. */
const POLL_MS = 100;
const SESSION_EVENTS = ['session.opened', 'build.attached', 'session.closed', 'build.detached'];

async function openAndCloseTerminal(gw: GatewayAddress, world: World): Promise<void> {
  const agent = await signIn(gw, world.users.developer);
  const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
  await t.waitForControl('ready');
  t.type('echo $((6*7))\r');
  await t.waitForOutput(/[\r\n]42\r\n/);
  t.close();
  assert.equal((await t.closed).code, 1000);
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  await pollUntil(what, timeoutMs, async () => condition());
}

describe('webhooks', () => {
  let sshd: SshdHandle;
  let receiver: WebhookReceiver;
  const dirs: string[] = [];
  const gateways: TestGateway[] = [];

  before(async () => {
    sshd = await startSshd();
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    for (const gw of gateways) await gw.close();
    await receiver.stop();
    await sshd.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return { PORTHOLE_WEBHOOK_URL: receiver.url, PORTHOLE_WEBHOOK_SECRET: receiver.secret, PORTHOLE_RESUME_SECONDS: '0', ...extra };
  }

  test('a terminal opened and closed: session.opened, build.attached, session.closed, build.detached, signed and in order', async () => {
    receiver.mode = 'ok';
    const gw = await startGateway(env(), { webhookPollMs: POLL_MS });
    gateways.push(gw);
    const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    const before = receiver.accepted().length;
    const started = Date.now();
    await openAndCloseTerminal(gw, world);
    const events = (await receiver.waitForAccepted(before + 4)).slice(before);
    assert.deepEqual(events.map((e) => e.type), SESSION_EVENTS);
    for (const e of events) {
      assert.ok(e.verified, 'Webhook.verify accepted the signature');
      assert.equal(e.body['id'], e.id, 'the body id is the webhook-id');
      assert.match(e.id, /^msg_[0-9a-f]{32}$/);
      assert.deepEqual(e.body['build'], { id: world.builds.linuxRunning });
      assert.deepEqual(e.body['app'], { id: 'app-1' });
      assert.ok(Date.parse(String(e.body['timestamp'])) >= started - 1000);
    }
    const [opened, attached, closed, detached] = events as [ReceivedWebhook, ReceivedWebhook, ReceivedWebhook, ReceivedWebhook];
    assert.deepEqual(opened.body['user'], { id: world.users.developer.id });
    assert.equal(opened.body.data['kind'], 'ssh');
    assert.equal(attached.body.data['connectionId'], opened.body.data['connectionId']);
    assert.equal(closed.body.data['closeCode'], 1000);
    assert.equal(typeof closed.body.data['reason'], 'string');
    assert.ok(Number(closed.body.data['durationMs']) > 0);
    assert.equal(detached.body['user'], null);
    assert.equal(detached.body.data['idleSince'], detached.body['timestamp']);

    // A forged request fails the library's verification: the receiver's check is a real one.
    const forged = await fetch(receiver.url, { method: 'POST', headers: { 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }, body: '{"type":"x","data":{}}' });
    assert.equal(forged.status, 401);

    const deliveries = await request(gw.url).get('/api/v1/webhook-deliveries').set('Authorization', `Bearer ${gw.controlToken}`);
    assert.equal(deliveries.status, 200);
    const view = deliveries.body as WebhookDeliveriesView;
    assert.equal(view.enabled, true);
    assert.deepEqual(view.deliveries.map((d) => d.type).reverse(), SESSION_EVENTS);
    assert.ok(view.deliveries.every((d) => d.outcome === 'delivered' && d.statusCode === 204 && d.attempt === 1 && d.endpoint === receiver.url));
    assert.equal((await request(gw.url).get('/api/v1/webhook-deliveries')).status, 401, 'needs the control token');
    const metrics = await request(gw.url).get('/metrics').set('Authorization', `Bearer ${gw.controlToken}`);
    assert.match(metrics.text, /porthole_webhook_deliveries_total\{outcome="delivered"\} 4/);
    await gw.close();
  });

  test('attach, Extend, Release: build.extended and build.released in order with the session events; a refused Extend sends nothing', async () => {
    receiver.mode = 'ok';
    const gw = await startGateway(env(), { webhookPollMs: POLL_MS });
    gateways.push(gw);
    const world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    // Closing 5 minutes from now: in its last 15-minute step.
    const put = await registerClosingBuild(gw, 'build-hooks-window', 5, { stack: 'linux', remoteAccess: { ssh: passwordEndpoint(sshd) }, graceMinutes: gw.config.graceMinutes });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const before = receiver.accepted().length;
    const developer = await signIn(gw, world.users.developer);
    const t = await connectTerminal(await mintTicket(gw, developer, 'build-hooks-window'), gw);
    await t.waitForControl('ready');

    const tester = await signIn(gw, world.users.tester);
    assert.equal((await tester.post('/api/v1/builds/build-hooks-window/extend').set('Origin', gw.origin)).status, 403);
    const extended = await developer.post('/api/v1/builds/build-hooks-window/extend').set('Origin', gw.origin);
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    const owner = await signIn(gw, world.users.owner);
    assert.equal((await owner.post('/api/v1/builds/build-hooks-window/release').set('Origin', gw.origin)).status, 200);
    assert.equal((await t.closed).code, 4000);

    const types = ['session.opened', 'build.attached', 'build.extended', 'build.released', 'session.closed', 'build.detached'];
    const events = (await receiver.waitForAccepted(before + types.length)).slice(before);
    assert.deepEqual(events.map((e) => e.type), types);
    for (const e of events) {
      assert.ok(e.verified);
      assert.deepEqual([e.body['build'], e.body['app']], [{ id: 'build-hooks-window' }, { id: 'app-1' }]);
    }
    const [, , extendedEvent, releasedEvent, closedEvent] = events;
    assert.deepEqual(extendedEvent?.body['user'], { id: world.users.developer.id });
    assert.deepEqual(extendedEvent?.body.data, { closesAt: extended.body.closesAt, by: { id: world.users.developer.id } });
    assert.deepEqual(releasedEvent?.body['user'], { id: world.users.owner.id });
    assert.deepEqual(releasedEvent?.body.data, { by: { id: world.users.owner.id } });
    assert.deepEqual([closedEvent?.body.data['closeCode'], closedEvent?.body.data['reason']], [4000, `released by ${world.users.owner.id}`]);
    await gw.close();
  });

  test('receiver failing, then gone across a gateway restart, then back: every event delivered, once each after dedupe, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-webhooks-'));
    dirs.push(dir);
    const databasePath = join(dir, 'porthole.db');
    // The same keys on both starts: the restarted gateway must open the VM secrets the first sealed.
    const keys = { PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'), PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex') };
    const before = receiver.accepted().length;
    const requestsBefore = receiver.requests.length;
    receiver.mode = 'fail';

    const gw1 = await startGateway(env(keys), { databasePath, webhookPollMs: POLL_MS });
    gateways.push(gw1);
    const world = await seedWorld(gw1, { ssh: passwordEndpoint(sshd) });
    await openAndCloseTerminal(gw1, world);
    // The first event is tried and retried (1 s, then 2 s later) and refused with 500 each time.
    await until(() => receiver.requests.length - requestsBefore >= 2, 'two refused attempts');
    assert.ok(receiver.requests.slice(requestsBefore).every((r) => r.status === 500 && r.verified && r.type === 'session.opened'), 'only the build head is tried');
    const failed = await request(gw1.url).get('/api/v1/webhook-deliveries').set('Authorization', `Bearer ${gw1.controlToken}`);
    assert.ok((failed.body as WebhookDeliveriesView).deliveries.some((d) => d.outcome === 'failed' && d.statusCode === 500 && d.error === 'HTTP 500'));

    // The receiver goes away entirely, and the gateway restarts on the same database meanwhile.
    await receiver.stop();
    await gw1.close();
    const gw2 = await startGateway(env(keys), { databasePath, webhookPollMs: POLL_MS });
    gateways.push(gw2);
    await openAndCloseTerminal(gw2, world);

    receiver.mode = 'ok';
    await receiver.start();
    const events = (await receiver.waitForAccepted(before + 8, 40_000)).slice(before);
    assert.deepEqual(events.map((e) => e.type), [...SESSION_EVENTS, ...SESSION_EVENTS], 'in order, across the restart');
    assert.ok(events.every((e) => e.verified));
    // Exactly once after dedupe by id: nothing beyond these eight was accepted, whatever was retried.
    await deliveriesSettled(gw2);
    const acceptedIds = receiver.requests.slice(requestsBefore).filter((r) => r.status === 204).map((r) => r.id);
    assert.deepEqual(new Set(acceptedIds), new Set(events.map((e) => e.id)));
    assert.equal(new Set(events.map((e) => e.id)).size, 8);
  });
});
