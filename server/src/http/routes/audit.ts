/**
 * `GET /api/v1/audit`: the audit trail for whoever holds the control token, newest first, filtered
 * by build, user and time, paged with `before`.
 */
import { Router } from 'express';
import { z } from 'zod';
import { parseId, type BuildId, type UserId } from '../../../../shared/src/ids.js';
import type { AuditEventView, AuditPageView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { AuditRecord, Store } from '../../store/store.js';
import { requireControlToken } from './control-api.js';
import { describeIssue } from '../control-schemas.js';

const DEFAULT_LIMIT = 100;
/** One answer stays a few hundred KiB at most; page with `before` for more. */
const MAX_LIMIT = 1000;

const id = z.string().transform((value, ctx) => {
  const parsed = parseId(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.value;
});

export const auditQuery = z.strictObject({
  buildId: id.optional(),
  userId: id.optional(),
  since: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a time zone' }).optional(),
  before: z.coerce.number({ error: 'must be an event id' }).int().positive().optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
});

export function auditRouter(deps: { readonly store: Store; readonly controlToken: string | null }): Router {
  const router = Router();
  router.get('/audit', requireControlToken(deps.controlToken), async (req, res) => {
    const parsed = auditQuery.safeParse(req.query);
    if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.query));
    const q = parsed.data;
    const rows = await deps.store.listAudit({
      ...(q.buildId === undefined ? {} : { buildId: q.buildId as BuildId }),
      ...(q.userId === undefined ? {} : { userId: q.userId as UserId }),
      ...(q.since === undefined ? {} : { since: new Date(q.since) }),
      ...(q.before === undefined ? {} : { beforeId: q.before }),
      limit: q.limit,
    });
    const events = rows.map(toView);
    const last = rows.at(-1);
    const body: AuditPageView = { events, next: rows.length === q.limit && last ? last.id : null };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}

function toView(row: AuditRecord): AuditEventView {
  return { id: row.id, at: row.at.toISOString(), event: row.event, userId: row.userId, buildId: row.buildId, details: row.details };
}
