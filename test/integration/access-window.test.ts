/** Live enforcement of the access window against a real sshd and Xvnc. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { establishedConnectionsTo, isProcessRunning } from '../helpers/daemon.js';
import { pollUntil } from '../helpers/ports.js';
import { connectTerminal, mintTicket, UpgradeRefused, type TerminalClient } from '../helpers/terminal-client.js';
import { connectScreen, type ScreenClient } from '../helpers/screen-client.js';

/** The product promise: every connection is closed within a second of the window's end. */
const CLOSE_BUDGET_MS = 1_000;
const CONNECTIONS_PER_KIND = 25;
/** The window ends this long after the finish call: enough to have all 50 connections up. */
const WINDOW_LEAD_MS = 4_000;
const CLEANUP_TIMEOUT_MS = 10_000;
const RACE_ITERATIONS = 200;

describe('access window enforcement', () => {
  let sshd: SshdHandle;
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;

  before(async () => {
    [sshd, xvnc] = await Promise.all([startSshd(), startXvnc()]);
    // The default idle timeout: a 3 s one would race these tests' own deadlines on a loaded machine.
    gw = await startGateway({ PORTHOLE_MAX_CONNECTIONS_PER_USER: String(2 * CONNECTIONS_PER_KIND) });
    world = await seedWorld(gw, {
      ssh: passwordEndpoint(sshd),
      vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password },
    });
  });
  after(async () => {
    await gw.close();
    await Promise.all([sshd.stop(), xvnc.stop()]);
  });

  test(`${2 * CONNECTIONS_PER_KIND} live connections of both kinds close with 4000 within ${CLOSE_BUDGET_MS} ms of the window's end`, async () => {
    await control(gw).put('/builds/mass', {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date(Date.now() - 30 * 60_000).toISOString(),
      remoteAccess: {
        ssh: passwordEndpoint(sshd),
        vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password },
      },
    });
    const agent = await signIn(gw, world.users.developer);
    const terminals: TerminalClient[] = [];
    const screens: ScreenClient[] = [];
    for (let i = 0; i < CONNECTIONS_PER_KIND; i++) {
      terminals.push(await connectTerminal(await mintTicket(gw, agent, 'mass'), gw));
      const res = await agent.post('/api/v1/builds/mass/connections').set('Origin', gw.origin).send({ kind: 'vnc' });
      screens.push(await connectScreen(res.body, gw));
    }
    const pids = await Promise.all(
      terminals.map(async (t) => {
        await t.waitForControl('ready');
        t.type('echo "pid=$$"\r');
        return (await t.waitForOutput(/[\r\n]pid=(\d+)\r\n/))[1] ?? '';
      }),
    );
    for (const s of screens) assert.equal(s.securityResult, 0);
    assert.equal(gw.enforcer.size, 2 * CONNECTIONS_PER_KIND);
    assert.ok(pids.every((pid) => isProcessRunning(pid)));
    assert.ok((await establishedConnectionsTo(xvnc.host, xvnc.port)) >= CONNECTIONS_PER_KIND);

    const closesAt = Date.now() + WINDOW_LEAD_MS;
    const finishedAt = new Date(closesAt - 10 * 60_000).toISOString();
    const finish = await control(gw).post('/builds/mass/finish', { finishedAt });
    assert.equal(finish.status, 200, JSON.stringify(finish.body));
    assert.equal(Date.parse(finish.body.window.closesAt as string), closesAt);
    for (const t of terminals) assert.equal((await t.waitForControl('window')).type, 'window');

    const closings = await Promise.all([...terminals.map((t) => t.closed), ...screens.map((s) => s.closed)].map(async (closed) => ({ ...(await closed), at: Date.now() })));
    const lateness = closings.map((c) => c.at - closesAt);
    assert.deepEqual([...new Set(closings.map((c) => c.code))], [4000]);
    assert.ok(Math.min(...lateness) >= -50, `nothing closed early (${Math.min(...lateness)} ms)`);
    assert.ok(Math.max(...lateness) <= CLOSE_BUDGET_MS, `all closed within ${CLOSE_BUDGET_MS} ms (worst ${Math.max(...lateness)} ms)`);
    console.log(`window end → close frames: worst ${Math.max(...lateness)} ms over ${closings.length} connections`);

    await pollUntil('shells ended on the VM', CLEANUP_TIMEOUT_MS, async () => pids.every((pid) => !isProcessRunning(pid)));
    await pollUntil('VNC upstream sockets closed', CLEANUP_TIMEOUT_MS, async () => (await establishedConnectionsTo(xvnc.host, xvnc.port)) === 0);
    assert.equal(gw.enforcer.size, 0);

    const again = await agent.post('/api/v1/builds/mass/connections').set('Origin', gw.origin).send({ kind: 'ssh' });
    assert.equal(again.status, 410);
    assert.equal(again.body.error.code, 'window_closed');
  });

  test('a role change to tester closes that user\'s live terminal with 4001', async () => {
    const agent = await signIn(gw, world.users.admin);
    const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
    await t.waitForControl('ready');
    const changed = Date.now();
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'tester' });
    try {
      const closed = await t.closed;
      assert.equal(closed.code, 4001);
      assert.ok(Date.now() - changed <= CLOSE_BUDGET_MS);
    } finally {
      await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    }
  });

  test('deleting the user closes their live connections with 4001 and signs them out', async () => {
    await control(gw).put('/users/leaver', { email: 'leaver@example.test', password: 'leaver-password' });
    await control(gw).put('/apps/app-1/members/leaver', { role: 'developer' });
    const agent = await signIn(gw, { id: 'leaver', email: 'leaver@example.test', password: 'leaver-password' });
    const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
    await t.waitForControl('ready');
    const deleted = await control(gw).del('/users/leaver');
    assert.equal(deleted.status, 204);
    assert.equal((await t.closed).code, 4001);
    assert.equal((await agent.get('/')).status, 303, 'the sign-in session no longer works');
    assert.equal((await control(gw).del('/users/leaver')).status, 404);
  });

  test('no input for the idle timeout closes with 4002', async () => {
    const idle = await startGateway({ PORTHOLE_IDLE_MINUTES: '0.05' });
    try {
      const idleWorld = await seedWorld(idle, { ssh: passwordEndpoint(sshd) });
      const agent = await signIn(idle, idleWorld.users.owner);
      const t = await connectTerminal(await mintTicket(idle, agent, idleWorld.builds.linuxRunning), idle);
      await t.waitForControl('ready');
      const closed = await t.closed;
      assert.equal(closed.code, 4002);
    } finally {
      await idle.close();
    }
  });

  test(`revoking during connection set-up never leaves a survivor (${RACE_ITERATIONS} random interleavings)`, async () => {
    const agent = await signIn(gw, world.users.developer);
    const outcomes = { refused: 0, closed: 0 };
    for (let i = 0; i < RACE_ITERATIONS; i++) {
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      const connecting = connectTerminal(ticket, gw).then(
        async (client) => ({ closed: await client.closed }),
        (error: unknown) => ({ error }),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 12)));
      await control(gw).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'tester' });
      const outcome = await connecting;
      if ('error' in outcome) {
        assert.ok(outcome.error instanceof UpgradeRefused, String(outcome.error));
        outcomes.refused += 1;
      } else {
        assert.equal(outcome.closed.code, 4001);
        outcomes.closed += 1;
      }
      assert.equal(gw.enforcer.size, 0, `iteration ${i}: no live connection survives`);
      await control(gw).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'developer' });
    }
    console.log(`revocation races: ${outcomes.refused} refused before the upgrade, ${outcomes.closed} closed after`);
  });
});
