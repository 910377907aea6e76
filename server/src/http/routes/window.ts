/**
 * A build's access window for its pages: the screen page and the build page poll it (their
 * connections have no JSON channel), and count down from the remaining time the server computed.
 */
import { Router } from 'express';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { loadBuildStanding, toWindowView } from '../../access/build-access.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';

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
    res.json(toWindowView(standing.build, now));
  });
  return router;
}
