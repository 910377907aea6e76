/**
 * Refusals anyone can cause at will (upgrades with guessed tickets, failed sign-ins, a user
 * hammering a cap) would each write an audit row and a log line: a thousand a second from one
 * client. Instead they are counted per source and reason, and each window of
 * REFUSAL_WINDOW_MS becomes one row with a count, written when the window ends (or at a drain).
 *
 * `aggregationOf` is the pure part: which events are aggregated, and under which key.
 */
import type { Clock } from '../sessions/access-enforcer.js';
import type { AuditEntry } from '../store/store.js';
import type { GatewayEvent, TicketRefusalReason } from './events.js';
import { auditEntryOf } from './audit-entry.js';

/** One row per source and reason per minute: a flood costs at most that, a single typo waits a minute. */
export const REFUSAL_WINDOW_MS = 60_000;
/**
 * Distinct sources counted at once. Past this (a flood from many addresses), further sources share
 * one row per reason under OVERFLOW_ADDRESS, so neither rows nor memory grow with the flood.
 */
export const MAX_OPEN_AGGREGATES = 1_000;
export const OVERFLOW_ADDRESS = '*';
const MS_PER_SECOND = 1000;

/** Refusals an authenticated user causes by repeating a request: counted per user, like the anonymous ones. */
const FLOOD_REASONS: ReadonlySet<TicketRefusalReason> = new Set(['too_many_connections', 'too_many_tickets', 'too_many_user_tickets']);

type AggregatedEvent = Extract<GatewayEvent, { type: 'ticket_refused' | 'login_failed' }>;

export interface Aggregation {
  /** Events with the same key share a row. */
  readonly key: string;
  /** The source the row names: the client's address, or OVERFLOW_ADDRESS. */
  readonly address: string | null;
  readonly event: AggregatedEvent;
}

/**
 * Whether `event` is aggregated: refusals without an authenticated user, failed sign-ins, and
 * refusals for repeating past a cap. Everything else is written as it happens.
 */
export function aggregationOf(event: GatewayEvent, overflow = false): Aggregation | null {
  if (event.type === 'login_failed') {
    // The email stays in the key: which account was tried is what an investigation asks first,
    // and the sign-in rate limit per address already bounds how many one address can try.
    const address = overflow ? OVERFLOW_ADDRESS : event.clientAddress;
    return { key: ['login_failed', event.email, address].join('\u0000'), address, event };
  }
  if (event.type !== 'ticket_refused') return null;
  if (event.userId !== null && !FLOOD_REASONS.has(event.reason)) return null;
  const address = overflow ? OVERFLOW_ADDRESS : event.clientAddress;
  return { key: ['ticket_refused', event.stage, event.reason, event.kind, event.userId, event.buildId, address].join('\u0000'), address, event };
}

interface Open {
  readonly first: AggregatedEvent;
  readonly address: string | null;
  readonly firstAt: number;
  lastAt: number;
  count: number;
  /** The request id of the first refusal, so the row's log line points at an access log line. */
  readonly reqId: string | null;
  readonly timer: NodeJS.Timeout;
}

export interface RefusalAggregatorDeps {
  readonly clock: Clock;
  /** Writes one aggregated row (and its log line, with the first refusal's request id). */
  readonly emit: (entry: AuditEntry, reqId: string | null) => void;
  readonly windowMs?: number;
  readonly maxOpen?: number;
}

export class RefusalAggregator {
  readonly #deps: RefusalAggregatorDeps;
  readonly #windowMs: number;
  readonly #maxOpen: number;
  readonly #open = new Map<string, Open>();

  constructor(deps: RefusalAggregatorDeps) {
    this.#deps = deps;
    this.#windowMs = deps.windowMs ?? REFUSAL_WINDOW_MS;
    this.#maxOpen = deps.maxOpen ?? MAX_OPEN_AGGREGATES;
  }

  /** Counts the event if it is aggregated; false when it should be written on its own. */
  add(event: GatewayEvent, reqId: string | null = null): boolean {
    let aggregation = aggregationOf(event);
    if (!aggregation) return false;
    if (!this.#open.has(aggregation.key) && this.#open.size >= this.#maxOpen) aggregation = aggregationOf(event, true) ?? aggregation;
    const now = this.#deps.clock.now();
    const open = this.#open.get(aggregation.key);
    if (open) {
      open.count += 1;
      open.lastAt = now;
      return true;
    }
    const { key } = aggregation;
    const timer = this.#deps.clock.setTimeout(() => this.#close(key), this.#windowMs);
    timer.unref?.();
    this.#open.set(key, {
      first: aggregation.event,
      address: aggregation.address,
      firstAt: now,
      lastAt: now,
      count: 1,
      reqId,
      timer,
    });
    return true;
  }

  /** Ends every open window now (drain, tests): their rows are emitted. */
  flush(): void {
    for (const key of [...this.#open.keys()]) this.#close(key);
  }

  #close(key: string): void {
    const open = this.#open.get(key);
    if (!open) return;
    this.#open.delete(key);
    this.#deps.clock.clearTimeout(open.timer);
    this.#deps.emit(toEntry(open, this.#windowMs), open.reqId);
  }
}

function toEntry(open: Open, windowMs: number): AuditEntry {
  const entry = auditEntryOf(open.first, new Date(open.firstAt));
  const counted = {
    clientAddress: open.address,
    count: open.count,
    windowSeconds: windowMs / MS_PER_SECOND,
    firstAt: new Date(open.firstAt).toISOString(),
    lastAt: new Date(open.lastAt).toISOString(),
  };
  return { ...entry, details: { ...entry.details, ...counted } };
}
