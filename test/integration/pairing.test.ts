/**
 * Pairing (issue #16), against a real sshd: a member's page watches another member's live
 * terminal — the same bytes, the owner's PTY size, none of its own keys or sizes reaching the VM —
 * until the owner lets it drive; a watcher that stops reading never slows the owner; access rules
 * apply to the watcher as to any connection, and the owner's session ending ends its watchers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import type TestAgent from 'supertest/lib/agent.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, type SshdHandle } from '../helpers/sshd.js';
import { startPairing, sessionIdOf, type PairingFixture } from '../helpers/pairing.js';
import type { TerminalClient } from '../helpers/terminal-client.js';
import { waitForAudit } from '../helpers/ops.js';
import { pollUntil } from '../helpers/ports.js';
import type { Participant } from '../../shared/src/protocol/ssh-v1.js';
import { TERMINAL_OUTPUT_BATCH_BYTES, TERMINAL_UNACKED_HIGH_BYTES } from '../../shared/src/limits.js';

/** The bound for access changes, as for any connection. */
const ACCESS_CLOSE_MS = 1_000;
/** Output the owner produces while a watcher reads nothing: far beyond every buffer on the way. */
const FLOOD_LINES = 400_000;
const WAIT_MS = 10_000;

function latestParticipants(t: TerminalClient): readonly Participant[] {
  const last = t.controls.filter((c) => c.type === 'participants').at(-1);
  return last?.type === 'participants' ? last.list : [];
}

describe('pairing: watching and co-driving a terminal', () => {
  let pairing: PairingFixture;
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let watcherAgent: TestAgent;

  before(async () => {
    pairing = await startPairing();
    ({ sshd, gw, world, watcherAgent } = pairing);
  });
  after(() => pairing.close());

  const ownerSession = (): Promise<TerminalClient> => pairing.ownerSession();

  const watcherOf = (owner: TerminalClient, options: { ack?: boolean } = {}): Promise<TerminalClient> => pairing.watcherOf(owner, options);

  test("a watcher sees the owner's output byte for byte at the owner's size; its keys and sizes never reach the VM", async () => {
    const owner = await ownerSession();
    owner.type('echo before-$((6*7))\r');
    await owner.waitForOutput(/before-42/);
    const watcher = await watcherOf(owner);
    const ready = watcher.controls.find((c) => c.type === 'ready');
    assert.equal(ready?.type === 'ready' ? ready.mode : null, 'watch');
    assert.deepEqual(watcher.controls.find((c) => c.type === 'size'), { type: 'size', cols: 100, rows: 30 });
    await watcher.waitForOutput(/before-42/);

    const marker = `/tmp/porthole-watcher-${sessionIdOf(owner)}`;
    rmSync(marker, { force: true });
    watcher.type(`touch ${marker}\r`);
    watcher.resize(50, 10);
    owner.type('stty size; echo after-$((7*7))\r');
    await owner.waitForOutput(/after-49/);
    await watcher.waitForOutput(/after-49/);
    assert.match(owner.output(), /[\r\n]30 100\r\n/, "the PTY keeps the owner's size");
    assert.equal(existsSync(marker), false, "the watcher's keys did not run");
    assert.deepEqual(watcher.outputBytes(), owner.outputBytes(), 'the same bytes, from the start of the session');

    assert.deepEqual(
      latestParticipants(owner).map((p) => [p.userId, p.mode, p.owner]),
      [
        [world.users.developer.id, 'drive', true],
        [world.users.admin.id, 'watch', false],
      ],
    );
    const started = await waitForAudit(gw, (e) => e.event === 'watch_started' && e.details['sessionId'] === sessionIdOf(owner));
    assert.equal(started.userId, world.users.admin.id);
    assert.equal(started.details['ownerId'], world.users.developer.id);
    owner.close();
    assert.equal((await watcher.closed).code, 1000, "the owner's end is the watcher's end, with its code");
  });

  test('the owner hands control to a watcher and takes it back; only the owner can', async () => {
    const owner = await ownerSession();
    const watcher = await watcherOf(owner);
    // A watcher asking for control for itself is not heard.
    watcher.ws.send(JSON.stringify({ type: 'control', userId: world.users.admin.id, mode: 'drive' }));
    owner.ws.send(JSON.stringify({ type: 'control', userId: world.users.admin.id, mode: 'drive' }));
    await watcher.waitForControl('participants');
    const granted = (): boolean => latestParticipants(watcher).some((p) => p.userId === world.users.admin.id && p.mode === 'drive');
    await pollUntil('the watcher to be told it drives', WAIT_MS, async () => granted());
    watcher.type('echo typed-by-watcher-$((2+3))\r');
    await owner.waitForOutput(/typed-by-watcher-5/);
    owner.ws.send(JSON.stringify({ type: 'control', userId: world.users.admin.id, mode: 'watch' }));
    const revoked = await waitForAudit(gw, (e) => e.event === 'control_revoked' && e.details['granteeId'] === world.users.admin.id);
    assert.equal(revoked.userId, world.users.developer.id);
    watcher.type('echo ignored-$((3+3))\r');
    owner.type('echo owner-$((4+4))\r');
    await owner.waitForOutput(/owner-8/);
    assert.doesNotMatch(owner.output(), /ignored-6/);
    owner.close();
    await watcher.closed;
  });

  test('a watcher that reads nothing does not slow the owner, and nothing piles up for it', { timeout: 120_000 }, async () => {
    const owner = await ownerSession();
    const stalled = await watcherOf(owner, { ack: false });
    // A frozen tab: it neither acknowledges nor reads its socket.
    stalled.ws.pause();
    const notices = (): number => stalled.controls.filter((c) => c.type === 'notice').length;
    const before = { bytes: stalled.outputBytes().length, controls: stalled.controls.length, notices: notices() };
    owner.type(`seq 1 ${FLOOD_LINES}; echo flood-done\r`);
    await owner.waitForOutput(new RegExp(`[\\r\\n]${FLOOD_LINES}\\r\\n`));
    await owner.waitForOutput(/flood-done\r\n/);
    // Whatever the gateway queued for it arrives before the close the owner's end sends it.
    stalled.ws.resume();
    owner.close();
    await stalled.closed;
    const got = stalled.outputBytes().length - before.bytes;
    const queued = stalled.controls.slice(before.controls).map((c) => c.type);
    console.log(`stalled watcher: ${got} bytes and ${queued.length} control messages (${queued.join(', ')}) queued for it while the owner printed ${owner.outputBytes().length}`);
    assert.ok(got <= TERMINAL_UNACKED_HIGH_BYTES + TERMINAL_OUTPUT_BATCH_BYTES, `${got} bytes were queued for a page that read nothing`);
    // Others (the owner's participants list as it leaves) are one each; notices were once one per event-loop turn.
    assert.ok(notices() - before.notices <= 1, `no notice per turn piled up for it: ${queued.join(', ')}`);
  });

  test('who may watch: members with an allowed role; a demoted watcher is dropped within 1 s, the owner stays', async () => {
    const owner = await ownerSession();
    const sessionId = sessionIdOf(owner);
    const ask = (agent: TestAgent, id = sessionId) =>
      agent.post(`/api/v1/builds/${world.builds.linuxRunning}/connections`).set('Origin', gw.origin).send({ kind: 'ssh', sessionId: id, mode: 'watch' });
    const tester = await ask(await signIn(gw, world.users.tester));
    assert.deepEqual([tester.status, tester.body.error.code], [403, 'role_forbidden']);
    assert.equal((await ask(await signIn(gw, world.users.outsider))).status, 404);
    assert.deepEqual([(await ask(watcherAgent, '0123456789abcdef')).status], [404]);

    const watcher = await watcherOf(owner);
    const started = Date.now();
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'tester' }).expect(200);
    try {
      const closed = await watcher.closed;
      assert.equal(closed.code, 4001);
      assert.ok(Date.now() - started < ACCESS_CLOSE_MS, `${Date.now() - started} ms`);
      owner.type('echo still-here-$((5*5))\r');
      await owner.waitForOutput(/still-here-25/);
    } finally {
      await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    }
    owner.close();
  });

  test('PORTHOLE_WATCH=off: no watch tickets, whoever asks', async () => {
    const closed = await startGateway({ PORTHOLE_WATCH: 'off' });
    try {
      const closedWorld = await seedWorld(closed, { ssh: passwordEndpoint(sshd) });
      const agent = await signIn(closed, closedWorld.users.admin);
      const res = await agent.post(`/api/v1/builds/${closedWorld.builds.linuxRunning}/connections`).set('Origin', closed.origin).send({ kind: 'ssh', sessionId: '0123456789abcdef', mode: 'watch' });
      assert.deepEqual([res.status, res.body.error.code], [403, 'role_forbidden']);
      assert.match(res.body.error.message, /turned off/);
    } finally {
      await closed.close();
    }
  });
});
