/**
 * A build's live sessions as its members see them (issue #16): the ones on this node from the
 * session directory, the ones other nodes hold from the shared live registry. The session's owner
 * lets a watcher type, takes it back, or removes it: here, or forwarded to the node holding the
 * session (../cluster/watcher-forwarding.ts); a holding node that takes no calls (no
 * PORTHOLE_NODE_URL) or does not answer leaves `session_on_other_node` (docs/api.md, "Live sessions").
 */
import type { MemberSessionView } from '../../../shared/src/api.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { AttachMode } from '../../../shared/src/protocol/ssh-v1.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { RemoteSessionListing, RemoteSessionLocator, ResumableSession, SessionDirectory, SessionPairing } from './session-directory.js';

export interface LiveSessionsDeps {
  /** Sessions live on this node. */
  readonly sessions: Pick<SessionDirectory, 'onBuild'>;
  /** Sessions other nodes hold; alone, a node finds none. */
  readonly otherNodes: Pick<RemoteSessionLocator, 'sessionsOn'>;
  /** Has the node holding a session act on it; null: no other node is ever asked. */
  readonly forward: ForwardAction | null;
}

/** The holding node acted, or answered why not; 'unreachable': no answer that says. */
export type ForwardAction = (
  session: RemoteSessionListing & { readonly nodeUrl: string },
  watcherId: UserId,
  action: WatcherAction,
) => Promise<Result<void, 'session_not_found' | 'watcher_not_found' | 'unreachable'>>;

export type OwnerActionRefusal = 'session_not_found' | 'not_session_owner' | 'session_on_other_node' | 'watcher_not_found';

/** What the owner of a session does to one of its watchers. */
export type WatcherAction = { readonly type: 'mode'; readonly mode: AttachMode } | { readonly type: 'remove' };

export interface LiveSessions {
  /** The build's sessions on every node, oldest first, as `viewer` sees them. */
  list(buildId: BuildId, viewer: UserId): Promise<readonly MemberSessionView[]>;
  /** The caller must own the session; the watcher must be on it (null: an id that names no one). */
  act(buildId: BuildId, caller: UserId, sessionId: string, watcherId: UserId | null, action: WatcherAction): Promise<Result<void, OwnerActionRefusal>>;
}

/**
 * Where the named session is and whose it is; null: no such session on the build. `reachable`:
 * held elsewhere by a node that takes calls from this one.
 */
export type SessionWhereabouts = { readonly ownerId: UserId; readonly here: true } | { readonly ownerId: UserId; readonly here: false; readonly reachable: boolean } | null;

/**
 * Pure: may `caller` act on the session as its owner, and where? A session of the build the
 * caller can see in the list anyway is refused as someone else's (403), not hidden (404).
 */
export function decideOwnerAction(caller: UserId, session: SessionWhereabouts): Result<'here' | 'forward', Exclude<OwnerActionRefusal, 'watcher_not_found'>> {
  if (session === null) return err('session_not_found');
  if (session.ownerId !== caller) return err('not_session_owner');
  if (session.here) return ok('here');
  return session.reachable ? ok('forward') : err('session_on_other_node');
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
      const nodeUrl = remote?.nodeUrl ?? null;
      const whereabouts: SessionWhereabouts = local
        ? { ownerId: local.userId, here: true }
        : remote
          ? { ownerId: remote.userId, here: false, reachable: deps.forward !== null && nodeUrl !== null }
          : null;
      const decision = decideOwnerAction(caller, whereabouts);
      if (!decision.ok) return decision;
      if (local) return applyAction(local, watcherId, action) ? ok(undefined) : err('watcher_not_found');
      // Forwarding: `remote` and its URL are there (decideOwnerAction said reachable).
      if (!remote || nodeUrl === null || !deps.forward) return err('session_on_other_node');
      if (watcherId === null) return err('watcher_not_found');
      const forwarded = await deps.forward({ ...remote, nodeUrl }, watcherId, action);
      if (forwarded.ok) return forwarded;
      return err(forwarded.error === 'unreachable' ? 'session_on_other_node' : forwarded.error);
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
    watchers: pairing.watchers.map((w) => ({ userId: w.userId, name: w.name, mode: w.mode, you: w.userId === viewer })),
  };
}
