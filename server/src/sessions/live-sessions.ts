/**
 * A build's live sessions as its members see them (issue #16): the ones on this node from the
 * session directory, the ones other nodes hold from the shared live registry. The session's owner
 * lets a watcher type, takes it back, or removes it — on this node only: a session another node
 * holds answers `session_on_other_node` (docs/api.md, "Live sessions").
 */
import type { MemberSessionView } from '../../../shared/src/api.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { AttachMode } from '../../../shared/src/protocol/ssh-v1.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { RemoteSessionLocator, ResumableSession, SessionDirectory, SessionPairing } from './session-directory.js';

export interface LiveSessionsDeps {
  /** Sessions live on this node. */
  readonly sessions: Pick<SessionDirectory, 'onBuild'>;
  /** Sessions other nodes hold; alone, a node finds none. */
  readonly otherNodes: Pick<RemoteSessionLocator, 'sessionsOn'>;
}

export type OwnerActionRefusal = 'session_not_found' | 'not_session_owner' | 'session_on_other_node' | 'watcher_not_found';

/** What the owner of a session does to one of its watchers. */
export type WatcherAction = { readonly type: 'mode'; readonly mode: AttachMode } | { readonly type: 'remove' };

export interface LiveSessions {
  /** The build's sessions on every node, oldest first, as `viewer` sees them. */
  list(buildId: BuildId, viewer: UserId): Promise<readonly MemberSessionView[]>;
  /** The caller must own the session; the watcher must be on it (null: an id that names no one). */
  act(buildId: BuildId, caller: UserId, sessionId: string, watcherId: UserId | null, action: WatcherAction): Promise<Result<void, OwnerActionRefusal>>;
}

/** Where the named session is, and whose it is; null: no such session on the build. */
export type SessionWhereabouts = { readonly ownerId: UserId; readonly here: boolean } | null;

/**
 * Pure: may `caller` act on the session as its owner? A session of the build the caller can see in
 * the list anyway is refused as someone else's (403), not hidden (404).
 */
export function decideOwnerAction(caller: UserId, session: SessionWhereabouts): Result<void, Exclude<OwnerActionRefusal, 'watcher_not_found'>> {
  if (session === null) return err('session_not_found');
  if (session.ownerId !== caller) return err('not_session_owner');
  if (!session.here) return err('session_on_other_node');
  return ok(undefined);
}

export function createLiveSessions(deps: LiveSessionsDeps): LiveSessions {
  return {
    list: async (buildId, viewer) => {
      const here = deps.sessions.onBuild(buildId).map((s) => toView(s.id, s, s.startedAt, s.pairing(), viewer));
      const elsewhere = (await deps.otherNodes.sessionsOn(buildId)).map((s) => toView(s.sessionId, s, s.startedAt, s.pairing, viewer));
      return [...here, ...elsewhere].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.sessionId.localeCompare(b.sessionId));
    },
    act: async (buildId, caller, sessionId, watcherId, action) => {
      const local = deps.sessions.onBuild(buildId).find((s) => s.id === sessionId) ?? null;
      const remote = local ? null : ((await deps.otherNodes.sessionsOn(buildId)).find((s) => s.sessionId === sessionId) ?? null);
      const whereabouts: SessionWhereabouts = local ? { ownerId: local.userId, here: true } : remote ? { ownerId: remote.userId, here: false } : null;
      const decision = decideOwnerAction(caller, whereabouts);
      if (!decision.ok) return decision;
      if (!local) return err('session_not_found'); // not reached: an owner's session here is `local`
      return applyAction(local, watcherId, action) ? ok(undefined) : err('watcher_not_found');
    },
  };
}

function applyAction(session: ResumableSession, watcherId: UserId | null, action: WatcherAction): boolean {
  if (watcherId === null) return false;
  return action.type === 'remove' ? session.removeWatcher(watcherId) : session.setWatcherMode(watcherId, action.mode);
}

function toView(
  sessionId: string,
  owner: { readonly userId: UserId; readonly kind: MemberSessionView['kind'] },
  startedAt: Date,
  pairing: SessionPairing,
  viewer: UserId,
): MemberSessionView {
  return {
    sessionId,
    kind: owner.kind,
    owner: { userId: owner.userId, name: pairing.ownerName },
    yours: owner.userId === viewer,
    startedAt: startedAt.toISOString(),
    state: pairing.held ? 'held' : 'attached',
    watchers: pairing.watchers.map((w) => ({ userId: w.userId, name: w.name, mode: w.mode })),
  };
}
