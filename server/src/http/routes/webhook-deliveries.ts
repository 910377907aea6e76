/**
 * `GET /api/v1/webhook-deliveries`: recent webhook attempts, failures included, newest first, for
 * whoever holds the control token: "did the orchestrator get build.detached, and if not, why".
 */
import { Router } from 'express';
import { z } from 'zod';
import type { WebhookDeliveriesView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { WebhookOutbox } from '../../webhooks/outbox.js';
import { requireControlToken } from './control-api.js';
import { describeIssue } from '../control-schemas.js';

const DEFAULT_LIMIT = 100;
/** Attempts are a few hundred bytes each: one answer stays small. */
const MAX_LIMIT = 1000;

export const deliveriesQuery = z.strictObject({
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
});

export interface WebhookDeliveriesDeps {
  /** null when webhooks are not configured: the list is empty. */
  readonly outbox: WebhookOutbox | null;
  readonly controlToken: string | null;
}

export function webhookDeliveriesRouter(deps: WebhookDeliveriesDeps): Router {
  const router = Router();
  router.get('/webhook-deliveries', requireControlToken(deps.controlToken), async (req, res) => {
    const parsed = deliveriesQuery.safeParse(req.query);
    if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.query));
    const outbox = deps.outbox;
    const [attempts, pending] = outbox === null ? [[], 0] : await Promise.all([outbox.listAttempts(parsed.data.limit), outbox.countPending()]);
    const body: WebhookDeliveriesView = {
      enabled: outbox !== null,
      pending,
      deliveries: attempts.map((a) => ({ ...a, at: a.at.toISOString() })),
    };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
