/**
 * A build's access window for its pages: the screen page and the build page poll it (their
 * connections have no JSON channel), and count down from the remaining time the server computed.
 */
import { Router } from 'express';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import type { WindowView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { loadBuildStanding } from '../build-access.js';
import { REFUSAL_MESSAGES } from '../../policy/remote-access.js';
import { isWindowOpen } from '../../domain/access-window.js';

export function windowRouter(deps: { readonly store: Store; readonly now: () => Date }): Router {
  const router = Router();
  router.get('/builds/:buildId/window', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const user = req.user;
    if (!user) throw new GatewayError('unauthenticated', 'Sign in first.');
    const buildId = parseId<BuildId>(req.params['buildId']);
    const now = deps.now();
    const standing = buildId.ok ? await loadBuildStanding(deps.store, buildId.value, user.id, now) : null;
    if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
    const { closesAt, startedAt } = standing.build;
    const body: WindowView = {
      closesAt: closesAt?.toISOString() ?? null,
      remainingMs: closesAt ? Math.max(0, closesAt.getTime() - now.getTime()) : null,
      open: isWindowOpen({ opensAt: startedAt, closesAt }, now),
    };
    res.json(body);
  });
  return router;
}
