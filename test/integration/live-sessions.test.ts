/**
 * The build page's live sessions (issue #16), one SQLite node, a real sshd: who may list them,
 * what a list shows (attached or held, who watches, in which mode), and the owner's say over a
 * watcher through HTTP — letting it type (its keys then run on the VM) and removing it (4008,
 * audited, the owner untouched). Forged and cross-build ids change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import type TestAgent from 'supertest/lib/agent.js';
import type { MemberSessionView } from '../../shared/src/api.js';
import { CloseCode } from '../../shared/src/protocol/close-codes.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, type SshdHandle } from '../helpers/sshd.js';
import { startPairing, sessionIdOf, type PairingFixture } from '../helpers/pairing.js';
import { connectTerminal, mintTicket, type TerminalClient } from '../helpers/terminal-client.js';
import { auditEvents, waitForAudit } from '../helpers/ops.js';
import { pollUntil } from '../helpers/ports.js';

const WAIT_MS = 10_000;

describe('live sessions: the list and the owner’s say over watchers', () => {
  let pairing: PairingFixture;
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let ownerAgent: TestAgent;
  let watcherAgent: TestAgent;

  before(async () => {
    pairing = await startPairing();
    ({ sshd, gw, world, ownerAgent, watcherAgent } = pairing);
  });
  after(() => pairing.close());

  const listPath = (build = world.builds.linuxRunning): string => `/api/v1/builds/${build}/live-sessions`;
  const watcherPath = (sessionId: string, userId = world.users.admin.id, build = world.builds.linuxRunning): string =>
    `${listPath(build)}/${sessionId}/watchers/${userId}`;

  async function list(agent: TestAgent): Promise<readonly MemberSessionView[]> {
    const res = await agent.get(listPath()).expect(200);
    return (res.body as { sessions: MemberSessionView[] }).sessions;
  }

  async function sessionIn(agent: TestAgent, sessionId: string): Promise<MemberSessionView | undefined> {
    return (await list(agent)).find((s) => s.sessionId === sessionId);
  }

  const ownerSession = (): Promise<TerminalClient> => pairing.ownerSession();

  const watcherOf = (owner: TerminalClient, options: { ack?: boolean } = {}): Promise<TerminalClient> => pairing.watcherOf(owner, options);

  test('every member who may connect sees the sessions, their owner and who watches; the owner is told it is theirs', async () => {
    const owner = await ownerSession();
    const sessionId = sessionIdOf(owner);
    await watcherOf(owner);
    const seenByWatcher = await sessionIn(watcherAgent, sessionId);
    assert.ok(seenByWatcher);
    assert.equal(seenByWatcher.kind, 'ssh');
    assert.deepEqual(seenByWatcher.owner, { userId: world.users.developer.id, name: world.users.developer.id });
    assert.equal(seenByWatcher.state, 'attached');
    assert.equal(seenByWatcher.yours, false);
    assert.ok(Number.isFinite(Date.parse(seenByWatcher.startedAt)));
    assert.deepEqual(seenByWatcher.watchers, [{ userId: world.users.admin.id, name: world.users.admin.id, mode: 'watch', you: true }]);
    const seenByOwner = await sessionIn(ownerAgent, sessionId);
    assert.equal(seenByOwner?.yours, true);
    assert.equal(seenByOwner?.watchers[0]?.you, false, 'you: the reader is that watcher');
    // A third member, watching nothing, sees the same names: the participants message tells them to anyone who attaches.
    const ownerRole = await signIn(gw, world.users.owner);
    assert.deepEqual((await sessionIn(ownerRole, sessionId))?.watchers.map((w) => w.userId), [world.users.admin.id]);
    owner.close();
    await pollUntil('the ended session to leave the list', WAIT_MS, async () => (await sessionIn(watcherAgent, sessionId)) === undefined);
  });

  test('who may list: a tester 403, a non-member or another app’s build 404, signed out 401', async () => {
    const tester = await (await signIn(gw, world.users.tester)).get(listPath());
    assert.deepEqual([tester.status, tester.body.error.code], [403, 'role_forbidden']);
    const outsider = await (await signIn(gw, world.users.outsider)).get(listPath());
    assert.deepEqual([outsider.status, outsider.body.error.code], [404, 'not_found']);
    const otherApp = await watcherAgent.get(listPath(world.builds.otherApp));
    assert.deepEqual([otherApp.status, otherApp.body.error.code], [404, 'not_found']);
    assert.equal((await watcherAgent.get(listPath('no-such-build'))).status, 404);
    const { default: request } = await import('supertest');
    assert.equal((await request(gw.url).get(listPath())).status, 401);
  });

  test('a session whose page dropped is listed as held, and attached again once resumed', async () => {
    const owner = await ownerSession();
    const sessionId = sessionIdOf(owner);
    owner.ws.terminate();
    await pollUntil('the session to be held', WAIT_MS, async () => (await sessionIn(watcherAgent, sessionId))?.state === 'held');
    const resumed = await connectTerminal(await mintTicket(gw, ownerAgent, world.builds.linuxRunning, 'ssh', sessionId), gw, { resumeFrom: 0, size: { cols: 100, rows: 30 } });
    pairing.track(resumed);
    await pollUntil('the session to be attached again', WAIT_MS, async () => (await sessionIn(watcherAgent, sessionId))?.state === 'attached');
    resumed.close();
  });

  test('the owner lets a watcher type over HTTP: its keys then run on the VM; forged, foreign and cross-build ids change nothing', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const owner = await ownerSession();
    const sessionId = sessionIdOf(owner);
    const watcher = await watcherOf(owner);
    const marker = `/tmp/porthole-live-sessions-${sessionId}`;
    rmSync(marker, { force: true });
    const drive = (agent: TestAgent, path: string): Promise<{ status: number; body: { error: { code: string } } }> =>
      agent.put(path).set('Origin', gw.origin).send({ mode: 'drive' });

    // Nobody but the owner, and only where the session is.
    assert.deepEqual(await codeOf(drive(watcherAgent, watcherPath(sessionId))), [403, 'not_session_owner']);
    assert.deepEqual(await codeOf(drive(ownerAgent, watcherPath('0123456789abcdef'))), [404, 'session_not_found']);
    assert.deepEqual(await codeOf(drive(ownerAgent, watcherPath('not-a-session-id'))), [404, 'session_not_found']);
    assert.deepEqual(await codeOf(drive(ownerAgent, watcherPath(sessionId, world.users.admin.id, world.builds.macRunning))), [404, 'session_not_found']);
    assert.deepEqual(await codeOf(drive(ownerAgent, watcherPath(sessionId, world.users.owner.id))), [404, 'not_found']);
    assert.deepEqual(await codeOf(ownerAgent.put(watcherPath(sessionId)).send({ mode: 'drive' })), [403, 'forbidden_origin']);
    assert.deepEqual(await codeOf(ownerAgent.put(watcherPath(sessionId)).set('Origin', gw.origin).send({ mode: 'type' })), [400, 'invalid_field']);
    watcher.type(`touch ${marker}\r`);
    owner.type('echo refused-$((6*6))\r');
    await owner.waitForOutput(/refused-36/);
    assert.equal(existsSync(marker), false, 'no refused call let the watcher type');
    assert.equal((await sessionIn(ownerAgent, sessionId))?.watchers[0]?.mode, 'watch');

    assert.equal((await drive(ownerAgent, watcherPath(sessionId))).status, 204);
    assert.equal((await sessionIn(watcherAgent, sessionId))?.watchers[0]?.mode, 'drive');
    const granted = await waitForAudit(gw, (e) => e.event === 'control_granted' && e.details['granteeId'] === world.users.admin.id, { since });
    assert.equal(granted.userId, world.users.developer.id);
    const grants = (await auditEvents(gw, { since, userId: world.users.developer.id })).filter((e) => e.event === 'control_granted');
    assert.equal(grants.length, 1, 'the refused calls granted nothing');
    watcher.type(`touch ${marker}; echo made-$((8*8))\r`);
    await owner.waitForOutput(/made-64/);
    assert.equal(existsSync(marker), true, "the watcher's keys ran on the VM");
    rmSync(marker, { force: true });

    assert.equal((await ownerAgent.put(watcherPath(sessionId)).set('Origin', gw.origin).send({ mode: 'watch' })).status, 204);
    await pollUntil('the list to show the watcher watching again', WAIT_MS, async () => (await sessionIn(ownerAgent, sessionId))?.watchers[0]?.mode === 'watch');
    watcher.type(`touch ${marker}\r`);
    owner.type('echo back-$((9*9))\r');
    await owner.waitForOutput(/back-81/);
    assert.equal(existsSync(marker), false, 'control taken back: the watcher types nothing');
    owner.close();
    await watcher.closed;
  });

  test('the owner removes a watcher: it closes with 4008, the owner goes on, the removal is audited', async () => {
    const owner = await ownerSession();
    const sessionId = sessionIdOf(owner);
    const watcher = await watcherOf(owner);
    const remove = (agent: TestAgent, path = watcherPath(sessionId)): Promise<[number, string]> => codeOf(agent.delete(path).set('Origin', gw.origin));
    assert.deepEqual(await remove(watcherAgent), [403, 'not_session_owner']);
    assert.deepEqual(await remove(ownerAgent, watcherPath(sessionId, world.users.admin.id, world.builds.macRunning)), [404, 'session_not_found']);

    const res = await ownerAgent.delete(watcherPath(sessionId)).set('Origin', gw.origin);
    assert.equal(res.status, 204);
    assert.deepEqual(await watcher.closed, { code: CloseCode.removedByOwner, reason: "removed by the session's owner" });
    const row = await waitForAudit(gw, (e) => e.event === 'watcher_removed' && e.details['watcherId'] === world.users.admin.id);
    assert.equal(row.userId, world.users.developer.id);
    assert.equal(row.buildId, world.builds.linuxRunning);
    const ended = await waitForAudit(gw, (e) => e.event === 'watch_ended' && e.details['sessionId'] === sessionId);
    assert.equal(ended.userId, world.users.admin.id);
    owner.type('echo owner-goes-on-$((5*5))\r');
    await owner.waitForOutput(/owner-goes-on-25/);
    assert.deepEqual((await sessionIn(ownerAgent, sessionId))?.watchers, []);
    assert.deepEqual(await remove(ownerAgent), [404, 'not_found'], 'a replayed DELETE finds no watcher');
    owner.close();
  });

  test('PORTHOLE_WATCH=off: the list is refused as watch tickets are', async () => {
    const off = await startGateway({ PORTHOLE_WATCH: 'off' });
    try {
      const offWorld = await seedWorld(off, { ssh: passwordEndpoint(sshd) });
      const res = await (await signIn(off, offWorld.users.admin)).get(`/api/v1/builds/${offWorld.builds.linuxRunning}/live-sessions`);
      assert.deepEqual([res.status, res.body.error.code], [403, 'role_forbidden']);
    } finally {
      await off.close();
    }
  });
});

async function codeOf(call: PromiseLike<{ status: number; body: { error?: { code: string } } }>): Promise<[number, string]> {
  const res = await call;
  return [res.status, res.body.error?.code ?? ''];
}
