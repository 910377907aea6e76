/**
 * A build's access window for its pages: the screen page and the build page read it (their
 * connections have no JSON channel; ./window-events.ts pushes its changes), and count down from the
 * remaining time the server computed.
 * Members with an allowed role may also extend it by one step or release it now (issue #20).
 */
import express, { Router, type Request } from 'express';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import type { WindowView } from '../../../../shared/src/api.js';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { loadBuildStanding, toWindowView, type BuildStanding } from '../../access/build-access.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';
import { decideExtension, EXTENSION_REFUSAL_MESSAGES, releaseReason } from '../../access/extension.js';
import type { EventSink } from '../../audit/events.js';
import type { WindowChanges } from '../../webhooks/window-changes.js';
import type { AccessChanges } from '../../cluster/access-changes.js';
import { closeReason } from '../../protocols/frames.js';
import { requireSameOrigin } from '../middleware/origin-guard.js';
import { describeIssue, emptyBody } from '../control-schemas.js';

export interface WindowRouteDeps {
  readonly store: Store;
  readonly now: () => Date;
  readonly graceMinutes: number;
  /** Extends and releases go to the audit trail. */
  readonly events: EventSink;
  /** Moves the close time, with its webhook event in the same transaction. */
  readonly windows: WindowChanges;
  /** Applied to this node's live connections and published to the others, as the control API does. */
  readonly changes: Pick<AccessChanges, 'windowChanged'>;
  readonly publicOrigin: string;
}

export function windowRouter(deps: WindowRouteDeps): Router {
  const router = Router();
  router.get('/builds/:buildId/window', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const now = deps.now();
    res.json(memberWindowView(await memberStanding(req, deps, now), now, deps.graceMinutes));
  });

  // Same rules as every cookie-authenticated POST: same origin (CSRF), signed in, member, allowed role.
  const post = [requireSameOrigin(deps.publicOrigin), express.json({ limit: BROWSER_BODY_LIMIT_BYTES })];

  router.post('/builds/:buildId/extend', ...post, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const now = deps.now();
    const { build, user } = await allowedStanding(req, deps, now);
    const decision = decideExtension(build, now, deps.graceMinutes);
    if (!decision.ok) throw new GatewayError(decision.error, EXTENSION_REFUSAL_MESSAGES[decision.error]);
    // Compare-and-set on the close time read above: a revoke, release or another click in between wins.
    const extended = await deps.windows.extend(build.id, decision.value.from, decision.value.to, user.id);
    if (!extended?.closesAt) throw new GatewayError('conflict', 'The window changed while extending it; reload and try again.');
    deps.changes.windowChanged(build.id, extended.closesAt, 'extend');
    deps.events.record({
      type: 'build_extended',
      userId: user.id,
      buildId: build.id,
      closesAt: extended.closesAt.toISOString(),
      previousClosesAt: decision.value.from.toISOString(),
    });
    res.json(toWindowView(extended, deps.now(), deps.graceMinutes, true));
  });

  router.post('/builds/:buildId/release', ...post, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const now = deps.now();
    const { build, user } = await allowedStanding(req, deps, now);
    const released = await deps.windows.release(build.id, now, user.id);
    if (!released) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
    // Cut here, not only at the close frame: the same words travel to the other nodes and the audit row.
    const reason = closeReason(releaseReason(user.name ?? user.email));
    deps.changes.windowChanged(build.id, released.closesAt, 'release', reason);
    deps.events.record({ type: 'build_released', userId: user.id, buildId: build.id, reason });
    res.json(toWindowView(released, deps.now(), deps.graceMinutes, true));
  });
  return router;
}

/** Any member may read the window (./window-events.ts streams it under the same rule). */
export async function memberStanding(req: Request, deps: Pick<WindowRouteDeps, 'store'>, now: Date): Promise<BuildStanding> {
  if (!req.user) throw new GatewayError('unauthenticated', 'Sign in first.');
  const buildId = parseId<BuildId>(req.params['buildId']);
  const standing = buildId.ok ? await loadBuildStanding(deps.store, buildId.value, req.user.id, now) : null;
  // Unknown builds and builds of other apps look the same: not found.
  if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
  return standing;
}

/** What a member is told: Extend only where their role allows remote access (a closed window still shows its step). */
export function memberWindowView(standing: BuildStanding, now: Date, graceMinutes: number): WindowView {
  return toWindowView(standing.build, now, graceMinutes, standing.decision.ok || standing.decision.error === 'window_closed');
}

/** A member whose role allows remote access, while the window is open (410 once closed: revoked, released or past). */
async function allowedStanding(req: Request, deps: WindowRouteDeps, now: Date): Promise<BuildStanding & { readonly user: Express.User }> {
  const parsed = emptyBody.safeParse(req.body ?? {});
  if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.body));
  const standing = await memberStanding(req, deps, now);
  if (!standing.decision.ok) throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
  return { ...standing, user: req.user as Express.User };
}
