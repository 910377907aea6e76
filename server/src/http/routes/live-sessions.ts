/**
 * The build page's live sessions (issue #16, docs/api.md "Live sessions"): the list every member
 * who may use remote access on the build reads, and the owner's say over who watches. Authorised
 * by the one remote-access policy, exactly as minting a connection ticket: a non-member (or an
 * unknown build) 404, a tester 403 `role_forbidden`, a closed window 410.
 *
 * Not `/sessions`: that path is the control API's operator view (bearer token, one row per
 * connection); one path with two credentials and two shapes would be a trap for both audiences.
 */
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { parseId, type BuildId, type UserId } from '../../../../shared/src/ids.js';
import type { MemberSessionsView } from '../../../../shared/src/api.js';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { loadBuildStanding } from '../../access/build-access.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';
import type { LiveSessions, OwnerActionRefusal, WatcherAction } from '../../sessions/live-sessions.js';
import { SESSION_ID_PATTERN } from '../../sessions/session-directory.js';
import { requireSameOrigin } from '../middleware/origin-guard.js';
import { describeIssue } from '../control-schemas.js';

export const watcherModeBody = z.strictObject({ mode: z.enum(['drive', 'watch']) });

export interface LiveSessionsRouteDeps {
  readonly store: Store;
  readonly now: () => Date;
  readonly liveSessions: LiveSessions;
  /** PORTHOLE_WATCH: off, there is nothing to watch and the list is refused as minting a watch ticket is. */
  readonly watchEnabled: boolean;
  readonly publicOrigin: string;
}

const WATCH_DISABLED_MESSAGE = 'Watching sessions is turned off on this gateway.';

const REFUSALS: Readonly<Record<OwnerActionRefusal, () => GatewayError>> = {
  session_not_found: () => new GatewayError('session_not_found', 'That session has ended.'),
  not_session_owner: () => new GatewayError('not_session_owner', "Only the session's owner can do that."),
  session_on_other_node: () =>
    new GatewayError('session_on_other_node', 'That session is held by another gateway node, which cannot be reached from here right now. Try again in a moment.'),
  watcher_not_found: () => new GatewayError('not_found', 'That person is not watching this session.'),
};

export function liveSessionsRouter(deps: LiveSessionsRouteDeps): Router {
  const router = Router();
  const sameOrigin = requireSameOrigin(deps.publicOrigin);

  router.get('/builds/:buildId/live-sessions', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { userId, buildId } = await authorise(deps, req);
    res.json({ sessions: await deps.liveSessions.list(buildId, userId) } satisfies MemberSessionsView);
  });

  router.put('/builds/:buildId/live-sessions/:sessionId/watchers/:userId', sameOrigin, express.json({ limit: BROWSER_BODY_LIMIT_BYTES }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const parsed = watcherModeBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.body));
    await act(deps, req, { type: 'mode', mode: parsed.data.mode });
    res.status(204).end();
  });

  router.delete('/builds/:buildId/live-sessions/:sessionId/watchers/:userId', sameOrigin, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    await act(deps, req, { type: 'remove' });
    res.status(204).end();
  });

  return router;
}

/** The signed-in user may use remote access on the build: the ticket's rule, the ticket's answers. */
async function authorise(deps: LiveSessionsRouteDeps, req: Request): Promise<{ readonly userId: UserId; readonly buildId: BuildId }> {
  const user = req.user;
  if (!user) throw new GatewayError('unauthenticated', 'Sign in first.');
  const buildId = parseId<BuildId>(req.params['buildId']);
  const standing = buildId.ok ? await loadBuildStanding(deps.store, buildId.value, user.id, deps.now()) : null;
  if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
  if (!standing.decision.ok) throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
  if (!deps.watchEnabled) throw new GatewayError('role_forbidden', WATCH_DISABLED_MESSAGE);
  return { userId: user.id, buildId: standing.build.id };
}

async function act(deps: LiveSessionsRouteDeps, req: Request, action: WatcherAction): Promise<void> {
  const { userId, buildId } = await authorise(deps, req);
  // A malformed id names no session, and a malformed user id no watcher: the same answers as unknown ones.
  const sessionId = req.params['sessionId'];
  if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) throw REFUSALS.session_not_found();
  const watcherId = parseId<UserId>(req.params['userId']);
  const done = await deps.liveSessions.act(buildId, userId, sessionId, watcherId.ok ? watcherId.value : null, action);
  if (!done.ok) throw REFUSALS[done.error]();
}
