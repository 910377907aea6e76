/**
 * Webhooks from two built gateway processes on one PostgreSQL: both nodes run a delivery loop on
 * the same outbox, yet each event reaches the receiver once; and attachment is judged across nodes
 * (live_connections): a build attached on A and then on B is attached once, and detached only when
 * the last connection, on either node, is gone. Extend and Release, written with their change on
 * PostgreSQL, take their place among the session events whichever node served them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import type { GatewayAddress } from '../helpers/gateway.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { control, registerClosingBuild, seedWorld, signIn } from '../helpers/seed.js';
import { connectTerminal, mintTicket, type TerminalClient, type Ticket } from '../helpers/terminal-client.js';
import { deliveriesSettled, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { freePort, pollUntil } from '../helpers/ports.js';

/** The grace both nodes are given, which the closing build below is registered against. */
const GRACE_MINUTES = 10;
/** Events of a burst, delivered by two polling nodes at 1 s intervals, on a loaded machine. */
const DELIVERY_WAIT_MS = 30_000;

describe('webhooks from two nodes on one PostgreSQL', () => {
  let cluster: PostgresCluster;
  let sshd: SshdHandle;
  let receiver: WebhookReceiver;
  let nodeA: GatewayProcess;
  let nodeB: GatewayProcess;
  let a: GatewayAddress;
  let b: GatewayAddress;

  before(async () => {
    [cluster, sshd, receiver] = await Promise.all([startPostgres(), startSshd(), startWebhookReceiver()]);
    const balancer = `http://127.0.0.1:${await freePort()}`;
    const shared = {
      PORTHOLE_DATABASE: await cluster.createDatabase(),
      PORTHOLE_PUBLIC_URL: balancer,
      PORTHOLE_CONTROL_TOKEN: `control-${randomBytes(16).toString('hex')}`,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_RESUME_SECONDS: '0',
      PORTHOLE_GRACE_MINUTES: String(GRACE_MINUTES),
      PORTHOLE_WEBHOOK_URL: receiver.url,
      PORTHOLE_WEBHOOK_SECRET: receiver.secret,
    };
    // One after the other: the first applies the migrations, the second finds them done.
    nodeA = await startGatewayProcess({ ...shared, PORTHOLE_NODE_ID: 'node-a' });
    nodeB = await startGatewayProcess({ ...shared, PORTHOLE_NODE_ID: 'node-b' });
    a = { url: nodeA.url, origin: balancer, controlToken: shared.PORTHOLE_CONTROL_TOKEN };
    b = { url: nodeB.url, origin: balancer, controlToken: shared.PORTHOLE_CONTROL_TOKEN };
  });
  after(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await Promise.all([cluster?.stop(), sshd?.stop(), receiver?.stop()]);
  });

  function to(node: GatewayAddress, ticket: Ticket): Ticket {
    const url = new URL(ticket.url);
    url.host = new URL(node.url).host;
    return { ...ticket, url: url.href };
  }

  async function typesAccepted(count: number): Promise<string[]> {
    return (await receiver.waitForAccepted(count, DELIVERY_WAIT_MS)).map((e) => e.type);
  }

  test('attached on A then B, left on A then B: one attach, one detach, each event delivered once', async () => {
    const world = await seedWorld(a, { ssh: passwordEndpoint(sshd) });
    const agent = await signIn(a, world.users.developer);
    const open = async (node: GatewayAddress): Promise<TerminalClient> => {
      const t = await connectTerminal(to(node, await mintTicket(a, agent, world.builds.linuxRunning)), node);
      await t.waitForControl('ready');
      return t;
    };
    const onA = await open(a);
    assert.deepEqual(await typesAccepted(2), ['session.opened', 'build.attached']);
    const onB = await open(b);
    assert.deepEqual((await typesAccepted(3)).slice(2), ['session.opened'], "B sees A's live connection: no second attach");
    onA.close();
    await onA.closed;
    assert.deepEqual((await typesAccepted(4)).slice(3), ['session.closed'], 'B is still on it: no detach');
    onB.close();
    await onB.closed;
    assert.deepEqual((await typesAccepted(6)).slice(4), ['session.closed', 'build.detached']);

    await deliveriesSettled(a, DELIVERY_WAIT_MS);
    const delivered = receiver.requests.filter((r) => r.status === 204);
    assert.equal(delivered.length, 6, `each event once: ${delivered.map((r) => r.type).join(', ')}`);
    assert.equal(new Set(delivered.map((r) => r.id)).size, 6);
    assert.ok(delivered.every((r) => r.verified));
  });

  test('receiver failing while both nodes queue events, then up: every event once, in order', async () => {
    const world = await seedWorld(a, { ssh: passwordEndpoint(sshd) });
    const agent = await signIn(a, world.users.developer);
    const before = receiver.accepted().length;
    const requestsBefore = receiver.requests.length;
    receiver.mode = 'fail';
    for (const node of [a, b, a]) {
      const t = await connectTerminal(to(node, await mintTicket(a, agent, world.builds.linuxRunning)), node);
      await t.waitForControl('ready');
      t.close();
      await t.closed;
      // The next connection must find this one gone from live_connections, to be a new attachment.
      await pollUntil('the closed terminal gone from the live connections', DELIVERY_WAIT_MS, async () => {
        const res = await control(a).get(`/builds/${world.builds.linuxRunning}/sessions`);
        return res.status === 200 && (res.body as { sessions: unknown[] }).sessions.length === 0;
      });
    }
    receiver.mode = 'ok';
    const cycle = ['session.opened', 'build.attached', 'session.closed', 'build.detached'];
    const events = (await receiver.waitForAccepted(before + 12, DELIVERY_WAIT_MS)).slice(before);
    assert.deepEqual(events.map((e) => e.type), [...cycle, ...cycle, ...cycle], 'in order, whichever node sent each');
    await deliveriesSettled(a, DELIVERY_WAIT_MS);
    const delivered = receiver.requests.slice(requestsBefore).filter((r) => r.status === 204);
    assert.equal(delivered.length, 12, 'no event delivered twice');
    assert.ok(receiver.requests.slice(requestsBefore).some((r) => r.status === 500), 'the outage was real');
  });

  test('Extend on A, Release on B: the terminal on A closes with 4000, and each event is delivered once, in order', async () => {
    const world = await seedWorld(a, { ssh: passwordEndpoint(sshd) });
    // Closing 5 minutes from now: in its last 15-minute step.
    const put = await registerClosingBuild(a, 'build-two-node-window', 5, { stack: 'linux', remoteAccess: { ssh: passwordEndpoint(sshd) }, graceMinutes: GRACE_MINUTES });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const before = receiver.accepted().length;
    const requestsBefore = receiver.requests.length;
    const agentA = await signIn(a, world.users.developer);
    const t = await connectTerminal(to(a, await mintTicket(a, agentA, 'build-two-node-window')), a);
    await t.waitForControl('ready');

    const extended = await agentA.post('/api/v1/builds/build-two-node-window/extend').set('Origin', a.origin);
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    const ownerOnB = await signIn(b, world.users.owner);
    assert.equal((await ownerOnB.post('/api/v1/builds/build-two-node-window/release').set('Origin', b.origin)).status, 200);
    assert.deepEqual(await t.closed, { code: 4000, reason: `released by ${world.users.owner.id}` });

    const types = ['session.opened', 'build.attached', 'build.extended', 'build.released', 'session.closed', 'build.detached'];
    const events = (await receiver.waitForAccepted(before + types.length, DELIVERY_WAIT_MS)).slice(before);
    assert.deepEqual(events.map((e) => e.type), types);
    assert.equal(events[2]?.body.data['closesAt'], extended.body.closesAt);
    await deliveriesSettled(a, DELIVERY_WAIT_MS);
    const delivered = receiver.requests.slice(requestsBefore).filter((r) => r.status === 204);
    assert.equal(delivered.length, types.length, `each event once: ${delivered.map((r) => r.type).join(', ')}`);
  });
});
