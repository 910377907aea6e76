/**
 * The audit trail: every GatewayEvent becomes one log line and one `audit_events` row, and is
 * passed on to subscribers (the metrics). Refusals anyone can repeat at will are the exception:
 * they are counted into one row (and one line) per source, reason and window
 * (./refusal-aggregator.ts); subscribers still see each one. Writes are fire-and-forget so a slow
 * database never holds up a login or a terminal, but they are bounded: past MAX_PENDING_WRITES the
 * row is dropped, logged and counted rather than queued without limit.
 */
import { currentRequestId, type Logger } from '../log.js';
import type { AuditEntry, Store } from '../store/store.js';
import { systemClock, type Clock } from '../sessions/access-enforcer.js';
import type { EventSink, GatewayEvent, GatewayEventType } from './events.js';
import { RefusalAggregator } from './refusal-aggregator.js';
import { auditEntryOf } from './audit-entry.js';

/** Rows waiting for the database; an embedded SQLite never has more than one turn's worth. */
const MAX_PENDING_WRITES = 10_000;

const MESSAGES: Readonly<Record<GatewayEventType, string>> = {
  login_succeeded: 'login succeeded',
  login_failed: 'login failed',
  native_credentials_revealed: 'native credentials revealed',
  ticket_minted: 'ticket minted',
  ticket_refused: 'ticket refused',
  connection_opened: 'connection opened',
  connection_closed: 'connection closed',
  session_detached: 'session held after its page left',
  session_resumed: 'session resumed',
  watch_started: 'watching started',
  watch_ended: 'watching ended',
  control_granted: 'control handed to a watcher',
  control_revoked: 'control taken back from a watcher',
  watcher_removed: "watcher removed by the session's owner",
  window_closed: 'access window closed',
  access_revoked: 'access revoked',
  build_extended: 'build window extended',
  build_released: 'build released',
  file_downloaded: 'file downloaded from the VM',
  file_uploaded: 'file uploaded to the VM',
  folder_downloaded: 'folder downloaded from the VM',
  host_key_pinned: 'host key pinned on first use',
  host_key_mismatch: 'VM presented an unexpected host key',
};

export interface AuditTrailDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Times the aggregation windows of repeated refusals. */
  readonly clock?: Clock;
}

export class AuditTrail implements EventSink {
  readonly #deps: AuditTrailDeps;
  readonly #listeners: ((event: GatewayEvent) => void)[] = [];
  readonly #pending = new Set<Promise<void>>();
  /** Rows recorded this turn, written together after it. */
  readonly #batch: { readonly entry: AuditEntry; readonly type: string; readonly logger: Logger }[] = [];
  /** Rows recorded and not yet written or failed, the batch included. */
  #pendingRows = 0;
  readonly #refusals: RefusalAggregator;
  #dropped = 0;

  constructor(deps: AuditTrailDeps) {
    this.#deps = deps;
    this.#refusals = new RefusalAggregator({
      clock: deps.clock ?? systemClock,
      emit: (entry, reqId) => {
        const { event, userId, buildId, details } = entry;
        deps.logger.info({ ...(reqId === null ? {} : { reqId }), event, userId, buildId, ...details }, `${MESSAGES[event as GatewayEventType]} (aggregated)`);
        this.#persist(entry, event, deps.logger);
      },
    });
  }

  /** Rows not written because the database fell too far behind. */
  get droppedRows(): number {
    return this.#dropped;
  }

  record(event: GatewayEvent): void {
    this.#write(event, this.#deps.logger);
  }

  /** A sink that logs through `logger` (e.g. one bound to a connection id). */
  bind(logger: Logger): EventSink {
    return { record: (event) => this.#write(event, logger) };
  }

  subscribe(listener: (event: GatewayEvent) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Resolves when every row recorded so far has been written (or has failed). Open aggregation
   * windows end now, so their counts are written too (a drain loses none).
   */
  async flush(): Promise<void> {
    this.#refusals.flush();
    this.#writeBatch();
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #write(event: GatewayEvent, logger: Logger): void {
    for (const listener of this.#listeners) listener(event);
    if (this.#refusals.add(event, currentRequestId())) return;
    const { type, ...fields } = event;
    const level = type === 'host_key_mismatch' ? 'warn' : 'info';
    logger[level]({ event: type, ...fields }, MESSAGES[type]);
    this.#persist(auditEntryOf(event, this.#deps.now()), type, logger);
  }

  #persist(entry: AuditEntry, type: string, logger: Logger): void {
    if (this.#pendingRows >= MAX_PENDING_WRITES) {
      this.#dropped += 1;
      logger.error({ event: 'audit_row_dropped', type }, 'audit row dropped: the database is not keeping up');
      return;
    }
    this.#pendingRows += 1;
    this.#batch.push({ entry, type, logger });
    // Rows of one turn go in one write after it: a window closing on hundreds of connections
    // sends every close frame first, then commits once.
    if (this.#batch.length === 1) setImmediate(() => this.#writeBatch());
  }

  #writeBatch(): void {
    const batch = this.#batch.splice(0);
    if (batch.length === 0) return;
    const write = this.#deps.store
      .appendAudit(batch.map((row) => row.entry))
      .catch((error: unknown) => {
        this.#dropped += batch.length;
        for (const { type, logger } of batch) logger.error({ event: 'audit_write_failed', type, err: error }, 'audit row could not be written');
      })
      .finally(() => {
        this.#pending.delete(write);
        this.#pendingRows -= batch.length;
      });
    this.#pending.add(write);
  }
}
