/**
 * Mints connection tickets for the signed-in user. The policy is checked here and again when the
 * ticket is redeemed; the answer tells the page where to connect, never what the gateway dials.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import type { ConnectionTicketView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { ConnectionKind, TicketBook } from '../../connections/tickets.js';
import { loadBuildStanding } from '../build-access.js';
import { REFUSAL_MESSAGES } from '../../policy/remote-access.js';
import { requireSameOrigin } from '../origin-guard.js';
import { describeIssue } from '../control-schemas.js';
import { kindAvailability, type ConnectionEndpoints } from '../../connections/endpoints.js';
import type { EventSink, TicketRefusalReason } from '../../audit/events.js';

// Not strict: stray fields such as "host" or "port" are ignored, never used.
const ticketRequest = z.object({ kind: z.enum(['ssh', 'vnc']), viewOnly: z.boolean().optional() });

export interface ConnectionRouteDeps {
  readonly store: Store;
  readonly tickets: TicketBook;
  readonly endpoints: ConnectionEndpoints;
  readonly publicOrigin: string;
  readonly now: () => Date;
  /** Mints and refusals go to the audit trail. */
  readonly events: EventSink;
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
      const kind: ConnectionKind = parsed.data.kind;
      const buildId = parseId<BuildId>(req.params['buildId']);
      const standing = buildId.ok ? await loadBuildStanding(deps.store, buildId.value, user.id, deps.now()) : null;
      const refuse = (reason: TicketRefusalReason): void => {
        deps.events.record({ type: 'ticket_refused', stage: 'mint', reason, userId: user.id, buildId: buildId.ok ? buildId.value : null, kind });
      };
      if (!standing) {
        refuse('not_found');
        throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
      }
      if (!standing.decision.ok) {
        refuse(standing.decision.error);
        throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
      }
      if (parsed.data.viewOnly === true && kind !== 'vnc') throw new GatewayError('invalid_field', 'viewOnly: only screens can be view-only');
      const availability = kindAvailability(standing.build, kind, deps.endpoints);
      if (!availability.ok) {
        refuse('kind_unavailable');
        throw new GatewayError('invalid_field', `kind: ${availability.error}`);
      }
      const minted = await deps.tickets.mint({
        userId: user.id,
        buildId: standing.build.id,
        kind,
        origin: deps.publicOrigin,
        viewOnly: parsed.data.viewOnly ?? false,
      });
      deps.events.record({ type: 'ticket_minted', userId: user.id, buildId: standing.build.id, kind, viewOnly: parsed.data.viewOnly ?? false });
      const body: ConnectionTicketView = {
        ticket: minted.ticket,
        url: deps.endpoints.webSocketUrl(kind, standing.build.id),
        protocol: deps.endpoints.subprotocol(kind),
        expiresAt: minted.expiresAt.toISOString(),
      };
      res.status(201).json(body);
    },
  );
  return router;
}
