/**
 * Delivers the outbox (./outbox.ts) to the configured endpoints, off every hot path: a loop that
 * claims due rows, posts each one signed per Standard Webhooks (the `standardwebhooks` package
 * signs; nothing here is hand-rolled crypto), and settles it as delivered, to be retried (see
 * ./backoff.ts) or given up. A slow or dead receiver costs this loop a bounded number of requests
 * in flight, each with a timeout, and never a terminal anything.
 */
import { Webhook } from 'standardwebhooks';
import type { Logger } from '../log.js';
import { afterFailure, type RetryDecision } from './backoff.js';
import type { AttemptOutcome, OutboxRow, WebhookOutbox } from './outbox.js';

/** Requests in flight at once: a few slow receivers cannot open sockets without bound. */
export const MAX_CONCURRENT_DELIVERIES = 4;
/** A receiver that has not answered in this long is counted as failed; it is retried later. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/**
 * A claim outlives the request's timeout by a margin, so a live node never loses a row it is still
 * sending; a node that died releases its rows to the others after this.
 */
export const CLAIM_LEASE_MS = 3 * DELIVERY_TIMEOUT_MS;
/** How often the loop looks for due rows when nothing woke it: retries are due at 1 s granularity. */
export const POLL_INTERVAL_MS = 1_000;
/** Settled rows and attempts are kept a week for the deliveries API, then pruned. */
export const DELIVERY_HISTORY_MS = 7 * 24 * 60 * 60_000;
/** Pruning is housekeeping: hourly is plenty. */
const PRUNE_INTERVAL_MS = 60 * 60_000;
/** An error text in the deliveries API stays a line, whatever a receiver answered. */
const MAX_ERROR_CHARS = 200;

export interface DeliveryDeps {
  readonly outbox: WebhookOutbox;
  /** Standard Webhooks secret (`whsec_…`). */
  readonly secret: string;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Counts each attempt by outcome (/metrics). */
  readonly onAttempt: (outcome: AttemptOutcome) => void;
  /** Tests shorten these. */
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface WebhookDelivery {
  /** Looks for due rows now (events were just written). */
  wake(): void;
  /** Stops claiming and waits for requests in flight; idempotent. */
  close(): Promise<void>;
}

export function startWebhookDelivery(deps: DeliveryDeps): WebhookDelivery {
  const signer = new Webhook(deps.secret);
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const inFlight = new Set<Promise<void>>();
  // Aborts the requests in flight at close: they settle as failed and due in a second, so the next
  // node or start sends them at once instead of waiting out this node's lease.
  const stopping = new AbortController();
  let closed: Promise<void> | null = null;
  let running = false;
  let again = false;
  let lastPrune = 0;
  const timer = setInterval(() => wake(), deps.pollIntervalMs ?? POLL_INTERVAL_MS);
  timer.unref();

  function wake(): void {
    if (closed !== null) return;
    // One pass at a time; a wake during a pass runs another pass after it.
    if (running) {
      again = true;
      return;
    }
    running = true;
    void pass()
      .catch((error: unknown) => deps.logger.warn({ event: 'webhook_outbox_unavailable', err: error }, 'webhook outbox could not be read; retrying'))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  async function pass(): Promise<void> {
    const now = deps.now();
    if (now.getTime() - lastPrune > PRUNE_INTERVAL_MS) {
      lastPrune = now.getTime();
      await deps.outbox.prune(new Date(now.getTime() - DELIVERY_HISTORY_MS));
    }
    const free = MAX_CONCURRENT_DELIVERIES - inFlight.size;
    if (free <= 0) return;
    const rows = await deps.outbox.claim(deps.nodeId, now, CLAIM_LEASE_MS, free);
    for (const row of rows) {
      const sending: Promise<void> = deliver(row)
        .catch((error: unknown) => deps.logger.warn({ event: 'webhook_settle_failed', eventId: row.eventId, err: error }, 'webhook attempt could not be recorded'))
        .finally(() => {
          inFlight.delete(sending);
          // A slot is free, and the build's next event may now be due.
          wake();
        });
      inFlight.add(sending);
    }
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const started = deps.now();
    const result = await post(row, started);
    const at = deps.now();
    const attempt = row.attempts + 1;
    const decision: { kind: 'delivered' } | RetryDecision = result.ok ? { kind: 'delivered' } : afterFailure(row.createdAt, attempt, at);
    const outcome: AttemptOutcome = decision.kind === 'delivered' ? 'delivered' : decision.kind === 'give_up' ? 'gave_up' : 'failed';
    deps.onAttempt(outcome);
    if (!result.ok) {
      deps.logger[outcome === 'gave_up' ? 'error' : 'warn'](
        { event: 'webhook_delivery_failed', eventId: row.eventId, type: row.type, endpoint: row.endpoint, attempt, statusCode: result.statusCode, error: result.error, outcome },
        outcome === 'gave_up' ? 'webhook given up after 24 hours of failures' : 'webhook delivery failed; will retry',
      );
    }
    await deps.outbox.settle(row, deps.nodeId, decision, {
      at,
      eventId: row.eventId,
      endpoint: row.endpoint,
      type: row.type,
      buildId: row.buildId,
      attempt,
      outcome,
      statusCode: result.statusCode,
      error: result.ok ? null : result.error,
      durationMs: at.getTime() - started.getTime(),
    });
  }

  async function post(row: OutboxRow, at: Date): Promise<{ ok: boolean; statusCode: number | null; error: string }> {
    try {
      const response = await doFetch(row.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': row.eventId,
          // The time of this attempt (what receivers check against replays), not of the event.
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signer.sign(row.eventId, at, row.payload),
        },
        body: row.payload,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal]),
      });
      // The body is not needed; reading it releases the socket.
      await response.arrayBuffer().catch(() => undefined);
      const ok = response.status >= 200 && response.status < 300;
      return { ok, statusCode: response.status, error: ok ? '' : `HTTP ${response.status}` };
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${(error.cause as Error | undefined)?.message ?? error.message}` : String(error);
      return { ok: false, statusCode: null, error: message.slice(0, MAX_ERROR_CHARS) };
    }
  }

  return {
    wake,
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        stopping.abort();
        // Rows in flight settle (or their lease runs out); nothing new is claimed.
        while (running || inFlight.size > 0) await Promise.all([...inFlight, new Promise((done) => setTimeout(done, 10))]);
      })();
      return closed;
    },
  };
}
