/** The members' live-session list and the owner's say over watchers (server/src/sessions/live-sessions.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BuildId, UserId } from '../../shared/src/ids.js';
import type { AttachMode } from '../../shared/src/protocol/ssh-v1.js';
import { createLiveSessions, decideOwnerAction } from '../../server/src/sessions/live-sessions.js';
import { parsePairing } from '../../server/src/cluster/pairing-column.js';
import type { RemoteSessionListing, ResumableSession, SessionPairing } from '../../server/src/sessions/session-directory.js';

const dana = 'dana' as UserId;
const sam = 'sam' as UserId;
const build = 'b-1' as BuildId;

test('only the owner acts on a session: here, or through the node holding it when that node takes calls', () => {
  assert.deepEqual(decideOwnerAction(dana, null), { ok: false, error: 'session_not_found' });
  assert.deepEqual(decideOwnerAction(sam, { ownerId: dana, here: true }), { ok: false, error: 'not_session_owner' });
  assert.deepEqual(decideOwnerAction(sam, { ownerId: dana, here: false, reachable: true }), { ok: false, error: 'not_session_owner' }, 'someone else’s, wherever it is');
  assert.deepEqual(decideOwnerAction(dana, { ownerId: dana, here: false, reachable: false }), { ok: false, error: 'session_on_other_node' });
  assert.deepEqual(decideOwnerAction(dana, { ownerId: dana, here: false, reachable: true }), { ok: true, value: 'forward' });
  assert.deepEqual(decideOwnerAction(dana, { ownerId: dana, here: true }), { ok: true, value: 'here' });
});

/** A session on this node that records what its owner asked of it. */
function localSession(id: string, startedAt: string, pairing: SessionPairing, calls: string[] = []): ResumableSession {
  return {
    id,
    userId: dana,
    buildId: build,
    kind: 'ssh',
    startedAt: new Date(startedAt),
    resume: () => undefined,
    watch: () => undefined,
    pairing: () => pairing,
    setWatcherMode: (userId: UserId, mode: AttachMode) => {
      calls.push(`${userId}:${mode}`);
      return pairing.watchers.some((w) => w.userId === userId);
    },
    removeWatcher: (userId: UserId) => {
      calls.push(`${userId}:removed`);
      return pairing.watchers.some((w) => w.userId === userId);
    },
  };
}

const remote: RemoteSessionListing = {
  nodeId: 'gw-2',
  nodeUrl: null,
  sessionId: '00000000000000aa',
  userId: sam,
  buildId: build,
  kind: 'vnc',
  startedAt: new Date('2030-01-01T10:00:00Z'),
  pairing: { ownerName: 'Sam', held: true, watchers: [] },
};

test('the list joins this node’s sessions and the other nodes’, oldest first, each marked for the viewer', async () => {
  const here = localSession('00000000000000bb', '2030-01-01T10:05:00Z', { ownerName: 'Dana', held: false, watchers: [{ userId: sam, name: 'Sam', mode: 'drive' }] });
  const live = createLiveSessions({ sessions: { onBuild: () => [here] }, otherNodes: { sessionsOn: () => Promise.resolve([remote]) }, forward: null });
  assert.deepEqual(await live.list(build, dana), [
    { sessionId: remote.sessionId, kind: 'vnc', owner: { userId: sam, name: 'Sam' }, yours: false, startedAt: '2030-01-01T10:00:00.000Z', state: 'held', watchers: [] },
    {
      sessionId: here.id,
      kind: 'ssh',
      owner: { userId: dana, name: 'Dana' },
      yours: true,
      startedAt: '2030-01-01T10:05:00.000Z',
      state: 'attached',
      watchers: [{ userId: sam, name: 'Sam', mode: 'drive', you: false }],
    },
  ]);
  const seenBySam = await live.list(build, sam);
  assert.equal(seenBySam[1]?.watchers[0]?.you, true, 'you: the reader is that watcher');
});

test('an owner’s action reaches the session here; elsewhere, someone else’s or an unknown watcher does nothing', async () => {
  const calls: string[] = [];
  const here = localSession('00000000000000bb', '2030-01-01T10:05:00Z', { ownerName: 'Dana', held: false, watchers: [{ userId: sam, name: 'Sam', mode: 'watch' }] }, calls);
  const live = createLiveSessions({ sessions: { onBuild: () => [here] }, otherNodes: { sessionsOn: () => Promise.resolve([{ ...remote, userId: dana }]) }, forward: null });
  assert.deepEqual(await live.act(build, dana, here.id, sam, { type: 'mode', mode: 'drive' }), { ok: true, value: undefined });
  assert.deepEqual(await live.act(build, dana, here.id, sam, { type: 'remove' }), { ok: true, value: undefined });
  assert.deepEqual(await live.act(build, dana, here.id, 'kim' as UserId, { type: 'remove' }), { ok: false, error: 'watcher_not_found' });
  assert.deepEqual(await live.act(build, dana, here.id, null, { type: 'remove' }), { ok: false, error: 'watcher_not_found' });
  assert.deepEqual(await live.act(build, sam, here.id, sam, { type: 'mode', mode: 'drive' }), { ok: false, error: 'not_session_owner' });
  assert.deepEqual(await live.act(build, dana, remote.sessionId, sam, { type: 'remove' }), { ok: false, error: 'session_on_other_node' });
  assert.deepEqual(await live.act(build, dana, '0123456789abcdef', sam, { type: 'remove' }), { ok: false, error: 'session_not_found' });
  assert.deepEqual(calls, ['sam:drive', 'sam:removed', 'kim:removed'], 'refused actions never reached the session');
});

test('an owner’s action on a session another node holds is forwarded there when it takes calls, and answered as it answers', async () => {
  const asked: string[] = [];
  const answers = new Map<string, 'session_not_found' | 'watcher_not_found' | 'unreachable' | null>([
    ['sam', null],
    ['kim', 'watcher_not_found'],
    ['lee', 'unreachable'],
  ]);
  const elsewhere = { ...remote, userId: dana, nodeUrl: 'http://gw-2.internal:8080' };
  const live = createLiveSessions({
    sessions: { onBuild: () => [] },
    otherNodes: { sessionsOn: () => Promise.resolve([elsewhere, { ...elsewhere, sessionId: '00000000000000cc', nodeUrl: null }]) },
    forward: (session, watcherId, action) => {
      asked.push(`${session.nodeUrl} ${session.sessionId} ${watcherId} ${action.type === 'remove' ? 'remove' : action.mode}`);
      const answer = answers.get(watcherId) ?? null;
      return Promise.resolve(answer === null ? { ok: true, value: undefined } : { ok: false, error: answer });
    },
  });
  assert.deepEqual(await live.act(build, dana, elsewhere.sessionId, sam, { type: 'mode', mode: 'drive' }), { ok: true, value: undefined });
  assert.deepEqual(await live.act(build, dana, elsewhere.sessionId, 'kim' as UserId, { type: 'remove' }), { ok: false, error: 'watcher_not_found' });
  assert.deepEqual(await live.act(build, dana, elsewhere.sessionId, 'lee' as UserId, { type: 'remove' }), { ok: false, error: 'session_on_other_node' }, 'no answer: the owner is told where it is');
  assert.deepEqual(await live.act(build, dana, '00000000000000cc', sam, { type: 'remove' }), { ok: false, error: 'session_on_other_node' }, 'a node that takes no calls');
  assert.deepEqual(await live.act(build, sam, elsewhere.sessionId, sam, { type: 'remove' }), { ok: false, error: 'not_session_owner' });
  assert.deepEqual(asked, [`${elsewhere.nodeUrl} ${elsewhere.sessionId} sam drive`, `${elsewhere.nodeUrl} ${elsewhere.sessionId} kim remove`, `${elsewhere.nodeUrl} ${elsewhere.sessionId} lee remove`]);
});

test('another node’s pairing column is checked, not trusted', () => {
  const good = { ownerName: 'Dana', held: true, watchers: [{ userId: 'sam', name: 'Sam', mode: 'drive' }] };
  assert.deepEqual(parsePairing(good, 'dana'), good);
  const unreadable = { ownerName: 'dana', held: false, watchers: [] };
  assert.deepEqual(parsePairing(null, 'dana'), unreadable, 'a row from a node before migration 9');
  assert.deepEqual(parsePairing({ ...good, watchers: [{ userId: 'sam', name: 'Sam', mode: 'own' }] }, 'dana'), unreadable);
  assert.deepEqual(parsePairing('<b>', 'dana'), unreadable);
});
