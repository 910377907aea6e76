/**
 * Turns what the gateway observes (its audit events, ../audit/events.ts) into webhook events in the
 * outbox: a session opened or closed, the first attachment to a build and the last one gone, and
 * refusals on a build counted per reason and interval (a flood of guessed tickets is one event a
 * minute, not one per attempt). Observations are handled one after another on a promise chain, so
 * a build's events enter the outbox in the order they happened; nothing here runs on the caller's
 * path beyond a map update.
 *
 * These events have no store change to share a transaction with: a live connection is the
 * enforcer's, in memory (PostgreSQL's live_connections rows are a heartbeat-refreshed directory
 * for the other nodes, pruned when stale, not the record of a session), so the outbox row written
 * here is itself the durable record. Extend and Release do change the store, and write their events
 * in that change's transaction instead (./window-changes.ts).
 */
import type { AppId, BuildId } from '../../../shared/src/ids.js';
import type { GatewayEvent } from '../audit/events.js';
import type { Logger } from '../log.js';
import { newEventId, type WebhookEvent } from './events.js';
import type { WebhookOutbox } from './outbox.js';

/** One access.refused per build and reason per minute at most, like the audit trail's aggregation. */
export const ACCESS_REFUSED_WINDOW_MS = 60_000;
/** Builds × reasons counted at once; past it refusals go uncounted (and logged) rather than growing memory. */
export const MAX_OPEN_REFUSAL_COUNTS = 1_000;
/**
 * Pending outbox rows beyond which new events are dropped (and counted): a receiver down for a day
 * under heavy use must not fill the database. 100k rows is a few tens of MB.
 */
export const MAX_PENDING_WEBHOOK_ROWS = 100_000;

/**
 * A node whose last connection on a build closed while another node still had one looks again
 * after this long: when both close at the same moment, each may see the other's row before its
 * removal lands, and neither would send build.detached. Two registry writes take well under this.
 */
export const DETACH_RECHECK_MS = 2_000;

export interface WebhookEmitterDeps {
  readonly outbox: WebhookOutbox;
  readonly endpoints: readonly string[];
  /** The build's app; null for an unknown build (no event: a guessed build id is nobody's business). */
  readonly appOf: (buildId: BuildId) => Promise<AppId | null>;
  /** Whether another node holds a live connection on the build (live_connections); a single node: never. */
  readonly othersAttached: (buildId: BuildId) => Promise<boolean>;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly maxPendingRows?: number;
  /** Events written: the delivery loop can look now. */
  readonly onWritten: () => void;
  /** Events not written because the outbox is full (/metrics). */
  readonly onDropped: (count: number) => void;
  /** Tests shorten the recheck. */
  readonly detachRecheckMs?: number;
}

export type AttachmentChange = 'attached' | 'detached' | null;

/**
 * Whether a connection opening or closing here is the build's first attachment or its last
 * detachment: only when this node's count crosses zero and no other node has one.
 */
export function attachmentChange(localBefore: number, localAfter: number, othersAttached: boolean): AttachmentChange {
  if (othersAttached) return null;
  if (localBefore === 0 && localAfter > 0) return 'attached';
  if (localBefore > 0 && localAfter === 0) return 'detached';
  return null;
}

interface RefusalCount {
  readonly buildId: BuildId;
  readonly reason: string;
  readonly firstAt: Date;
  lastAt: Date;
  count: number;
}

type Observation =
  | { readonly kind: 'gateway'; readonly event: GatewayEvent; readonly at: Date; readonly before: number; readonly after: number }
  | { readonly kind: 'refusals'; readonly counts: readonly RefusalCount[] }
  | { readonly kind: 'recheck'; readonly buildId: BuildId; readonly appId: AppId; readonly idleSince: Date };

export interface WebhookEmitter {
  /** Subscribe this to the audit trail. Cheap and never throws. */
  observe(event: GatewayEvent): void;
  /**
   * Resolves once everything observed before the call is in the outbox: a change that writes its
   * own event (./window-changes.ts) waits for this first, so the build's events stay in order.
   */
  settled(): Promise<void>;
  /** Writes open refusal counts and waits for every observation to reach the outbox; idempotent. */
  close(): Promise<void>;
}

export function createWebhookEmitter(deps: WebhookEmitterDeps): WebhookEmitter {
  const maxPending = deps.maxPendingRows ?? MAX_PENDING_WEBHOOK_ROWS;
  const live = new Map<BuildId, number>();
  const refusals = new Map<string, RefusalCount>();
  let refusalTimer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  /** Detach rechecks waiting, by timer; run at once on close so none is lost. */
  const rechecks = new Map<NodeJS.Timeout, Extract<Observation, { kind: 'recheck' }>>();
  let closed: Promise<void> | null = null;

  const enqueue = (observation: Observation): void => {
    chain = chain.then(() => handle(observation)).catch((error: unknown) => deps.logger.error({ event: 'webhook_enqueue_failed', err: error }, 'webhook events could not be written to the outbox'));
  };

  const flushRefusals = (): void => {
    refusalTimer = null;
    if (refusals.size === 0) return;
    const counts = [...refusals.values()];
    refusals.clear();
    enqueue({ kind: 'refusals', counts });
  };

  async function handle(o: Observation): Promise<void> {
    const events =
      o.kind === 'gateway'
        ? await eventsOf(o)
        : o.kind === 'refusals'
          ? await refusalEvents(o.counts)
          : await recheck(o);
    if (events.length === 0) return;
    const dropped = await deps.outbox.enqueue(events, deps.endpoints, maxPending, deps.now());
    if (dropped > 0) {
      deps.onDropped(dropped);
      deps.logger.error({ event: 'webhook_events_dropped', count: dropped, types: events.map((e) => e.type) }, 'webhook events dropped: the outbox is full');
      return;
    }
    deps.onWritten();
  }

  async function eventsOf(o: Extract<Observation, { kind: 'gateway' }>): Promise<WebhookEvent[]> {
    const e = o.event;
    if (e.type !== 'connection_opened' && e.type !== 'connection_closed') return [];
    const appId = await deps.appOf(e.buildId);
    if (appId === null) return [];
    const base = { timestamp: o.at.toISOString(), build: { id: e.buildId }, app: { id: appId } };
    const others = o.before === 0 || o.after === 0 ? await deps.othersAttached(e.buildId) : false;
    const change = attachmentChange(o.before, o.after, others);
    if (others && o.before > 0 && o.after === 0) scheduleRecheck({ kind: 'recheck', buildId: e.buildId, appId, idleSince: o.at });
    if (e.type === 'connection_opened') {
      const opened: WebhookEvent = { ...base, id: newEventId(), type: 'session.opened', user: { id: e.userId }, data: { connectionId: e.connectionId, kind: e.kind, viewOnly: e.viewOnly } };
      if (change !== 'attached') return [opened];
      return [opened, { ...base, id: newEventId(), type: 'build.attached', user: { id: e.userId }, data: { connectionId: e.connectionId } }];
    }
    const closedEvent: WebhookEvent = {
      ...base,
      id: newEventId(),
      type: 'session.closed',
      user: { id: e.userId },
      data: { connectionId: e.connectionId, kind: e.kind, closeCode: e.closeCode, reason: e.reason, durationMs: Math.max(0, Math.round(e.durationMs)) },
    };
    if (change !== 'detached') return [closedEvent];
    return [closedEvent, { ...base, id: newEventId(), type: 'build.detached', user: null, data: { idleSince: o.at.toISOString() } }];
  }

  function scheduleRecheck(o: Extract<Observation, { kind: 'recheck' }>): void {
    if (closed !== null) {
      enqueue(o);
      return;
    }
    const timer = setTimeout(() => {
      rechecks.delete(timer);
      enqueue(o);
    }, deps.detachRecheckMs ?? DETACH_RECHECK_MS);
    timer.unref();
    rechecks.set(timer, o);
  }

  async function recheck(o: Extract<Observation, { kind: 'recheck' }>): Promise<WebhookEvent[]> {
    // Attached here again since, or still elsewhere: that connection's close decides instead.
    if ((live.get(o.buildId) ?? 0) > 0 || (await deps.othersAttached(o.buildId))) return [];
    // The other node's last close usually sent it already (or someone attached since): no duplicate.
    if (await deps.outbox.attachmentSaidSince(o.buildId, o.idleSince)) return [];
    // Timestamped now, not at idleSince: a recheck on the other node then sees this one.
    const data = { idleSince: o.idleSince.toISOString() };
    return [{ id: newEventId(), type: 'build.detached', timestamp: deps.now().toISOString(), build: { id: o.buildId }, app: { id: o.appId }, user: null, data }];
  }

  async function refusalEvents(counts: readonly RefusalCount[]): Promise<WebhookEvent[]> {
    const events: WebhookEvent[] = [];
    for (const c of counts) {
      const appId = await deps.appOf(c.buildId);
      if (appId === null) continue;
      events.push({
        id: newEventId(),
        type: 'access.refused',
        timestamp: c.lastAt.toISOString(),
        build: { id: c.buildId },
        app: { id: appId },
        user: null,
        data: { reason: c.reason, count: c.count, firstAt: c.firstAt.toISOString(), lastAt: c.lastAt.toISOString() },
      });
    }
    return events;
  }

  return {
    observe(event) {
      if (closed !== null) return;
      const at = deps.now();
      if (event.type === 'ticket_refused') {
        if (event.buildId === null) return;
        const key = `${event.buildId}\u0000${event.reason}`;
        const open = refusals.get(key);
        if (open) {
          open.count += 1;
          open.lastAt = at;
        } else if (refusals.size < MAX_OPEN_REFUSAL_COUNTS) {
          refusals.set(key, { buildId: event.buildId, reason: event.reason, firstAt: at, lastAt: at, count: 1 });
        }
        refusalTimer ??= setTimeout(flushRefusals, ACCESS_REFUSED_WINDOW_MS);
        refusalTimer.unref();
        return;
      }
      if (event.type !== 'connection_opened' && event.type !== 'connection_closed') return;
      // Counted now, in the order events happen; the outbox write follows on the chain.
      const before = live.get(event.buildId) ?? 0;
      const after = event.type === 'connection_opened' ? before + 1 : Math.max(0, before - 1);
      if (after === 0) live.delete(event.buildId);
      else live.set(event.buildId, after);
      enqueue({ kind: 'gateway', event, at, before, after });
    },
    settled() {
      // The chain as it is now: later observations do not hold the caller up.
      return chain;
    },
    close() {
      closed ??= (async () => {
        if (refusalTimer !== null) clearTimeout(refusalTimer);
        flushRefusals();
        for (const [timer, o] of rechecks) {
          clearTimeout(timer);
          enqueue(o);
        }
        rechecks.clear();
        // What is being handled may queue more (a recheck): wait until the chain stops growing.
        for (let current = chain; ; current = chain) {
          await current;
          if (current === chain) break;
        }
      })();
      return closed;
    },
  };
}
