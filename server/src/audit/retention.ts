/**
 * Deletes audit rows older than PORTHOLE_AUDIT_RETENTION_DAYS, so the trail (and what a flood of
 * refusals could add to it) does not grow for ever. Every node may sweep; the delete is idempotent.
 */
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { retentionCutoff, startPeriodicSweep } from '../housekeeping/periodic-sweep.js';

/** Retention is in days; an hourly sweep deletes a row at most an hour late. */
export const AUDIT_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export interface AuditRetentionDeps {
  readonly store: Store;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** One sweep; resolves to the number of rows deleted. Never rejects. */
export async function sweepAudit(deps: AuditRetentionDeps): Promise<number> {
  const cutoff = retentionCutoff(deps.now(), deps.retentionDays);
  try {
    const deleted = await deps.store.pruneAudit(cutoff);
    if (deleted > 0) deps.logger.info({ event: 'audit_rows_expired', count: deleted, cutoff: cutoff.toISOString() }, 'expired audit rows deleted');
    return deleted;
  } catch (error) {
    deps.logger.error({ event: 'audit_sweep_failed', err: error }, 'expired audit rows could not be deleted');
    return 0;
  }
}

/** Sweeps now and then every AUDIT_SWEEP_INTERVAL_MS; returns a function that stops it. */
export function startAuditRetention(deps: AuditRetentionDeps): () => void {
  return startPeriodicSweep(() => sweepAudit(deps), AUDIT_SWEEP_INTERVAL_MS);
}
