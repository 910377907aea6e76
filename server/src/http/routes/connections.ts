/** Mints connection tickets for the signed-in user's terminal and screen pages. */
import express, { Router } from 'express';
import { z } from 'zod';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { GatewayError } from '../../errors.js';
import { requireSameOrigin } from '../middleware/origin-guard.js';
import { describeIssue, sessionIdField } from '../control-schemas.js';
import type { Admission } from '../../sessions/admission.js';
import { CONNECTION_KINDS } from '../../../../shared/src/protocol/kinds.js';
import { signInIdOf } from '../../auth/sign-in-id.js';

// Not strict: stray fields such as "host" or "port" are ignored, never used.
export const ticketRequest = z.object({
  kind: z.enum(CONNECTION_KINDS),
  viewOnly: z.boolean().optional(),
  /** Resume this held session (docs/protocol.md, "Resuming") instead of opening a new one. */
  sessionId: sessionIdField.optional(),
  /** With sessionId: "watch" joins another member's live session as a watcher (docs/protocol.md, "Pairing"). */
  mode: z.enum(['drive', 'watch']).optional(),
});

export interface ConnectionRouteDeps {
  /** Mints connection tickets under the one admission policy. */
  readonly admission: Pick<Admission, 'mint'>;
  readonly publicOrigin: string;
}

export function connectionsRouter(deps: ConnectionRouteDeps): Router {
  const router = Router();
  router.post(
    '/builds/:buildId/connections',
    requireSameOrigin(deps.publicOrigin),
    express.json({ limit: BROWSER_BODY_LIMIT_BYTES }),
    async (req, res) => {
      res.set('Cache-Control', 'no-store');
      const user = req.user;
      if (!user) throw new GatewayError('unauthenticated', 'Sign in first.');
      const parsed = ticketRequest.safeParse(req.body ?? {});
      if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.body));
      const buildId = parseId<BuildId>(req.params['buildId']);
      const body = await deps.admission.mint({
        userId: user.id,
        buildId: buildId.ok ? buildId.value : null,
        kind: parsed.data.kind,
        viewOnly: parsed.data.viewOnly ?? false,
        origin: deps.publicOrigin,
        sessionEpoch: user.sessionEpoch,
        signInId: signInIdOf(req.sessionID),
        sessionId: parsed.data.sessionId ?? null,
        watch: parsed.data.mode === 'watch',
      });
      res.status(201).json(body);
    },
  );
  return router;
}
