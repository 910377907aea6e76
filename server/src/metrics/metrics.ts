/**
 * Prometheus metrics (prom-client), in a registry of this gateway's own so several gateways in one
 * process (tests) do not mix. Labels take only values the gateway chose from small fixed sets:
 * a browser choosing its own close code cannot grow the number of series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ABNORMAL_CLOSURE_CODE, CloseCode, NO_STATUS_CODE } from '../../../shared/src/protocol/close-codes.js';
import type { GatewayEvent } from '../audit/events.js';
import { CONNECTION_KINDS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';

/** Close codes with their own series; anything else is counted as "other" (browser codes are filed first). */
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set<number>([...Object.values(CloseCode), NO_STATUS_CODE, ABNORMAL_CLOSURE_CODE]);
/** From a loopback VM (~1 ms) to a tunnel across the world timing out (10 s, TCP_CONNECT_TIMEOUT_MS). */
const CONNECT_SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Direction = 'to_browser' | 'from_browser';

/** File operations as metric labels (issue #17). */
const FILE_OPERATIONS = ['download', 'upload', 'archive'] as const;
type FileOperationLabel = (typeof FILE_OPERATIONS)[number];

/** What a live connection reports as it runs; cheap enough for every chunk of terminal output. */
export interface ConnectionMeter {
  toBrowser(bytes: number): void;
  fromBrowser(bytes: number): void;
  paused(): void;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #live: Gauge<'kind'>;
  readonly #opened: Counter<'kind'>;
  readonly #closed: Counter<'kind' | 'code' | 'closed_by'>;
  readonly #pauses: Counter<'kind'>;
  readonly #minted: Counter<'kind'>;
  readonly #refused: Counter<'stage' | 'reason'>;
  readonly #logins: Counter<'outcome'>;
  readonly #connect: Histogram<'kind' | 'outcome'>;
  readonly #draining: Gauge;
  readonly #held: Gauge<'kind'>;
  readonly #resumed: Counter<'kind'>;
  readonly #recordingDropped: Counter;
  readonly #webhookDeliveries: Counter<'outcome'>;
  readonly #webhookDropped: Counter;
  readonly #fileTransfers: Counter<'operation' | 'outcome'>;
  readonly #fileBytes: Counter<'operation'>;
  /** Bytes are summed in plain numbers per chunk and handed to prom-client when scraped. */
  readonly #unflushedBytes = new Map<string, { kind: ConnectionKind; direction: Direction; bytes: number }>();

  constructor() {
    const registers = [this.registry];
    // Process CPU, memory, handles, GC and event-loop delay (nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: this.registry });
    this.#live = new Gauge({ name: 'porthole_connections_live', help: 'Terminal and screen connections open now.', labelNames: ['kind'], registers });
    this.#opened = new Counter({ name: 'porthole_connections_opened_total', help: 'Connections accepted after the ticket and policy checks.', labelNames: ['kind'], registers });
    this.#closed = new Counter({
      name: 'porthole_connections_closed_total',
      help: 'Connections ended, by WebSocket close code (docs/protocol.md) and by who closed (browser or gateway).',
      labelNames: ['kind', 'code', 'closed_by'],
      registers,
    });
    const unflushed = this.#unflushedBytes;
    new Counter({
      name: 'porthole_connection_bytes_total',
      help: 'Bytes relayed between browsers and VMs, by direction.',
      labelNames: ['kind', 'direction'],
      registers,
      collect() {
        for (const entry of unflushed.values()) {
          if (entry.bytes === 0) continue;
          this.inc({ kind: entry.kind, direction: entry.direction }, entry.bytes);
          entry.bytes = 0;
        }
      },
    });
    this.#pauses = new Counter({
      name: 'porthole_backpressure_pauses_total',
      help: 'Times reading from a VM paused because the browser fell behind.',
      labelNames: ['kind'],
      registers,
    });
    this.#minted = new Counter({ name: 'porthole_tickets_minted_total', help: 'Connection tickets given out.', labelNames: ['kind'], registers });
    this.#refused = new Counter({
      name: 'porthole_tickets_refused_total',
      help: 'Ticket requests refused (stage "mint") and WebSocket upgrades refused (stage "redeem"), by reason.',
      labelNames: ['stage', 'reason'],
      registers,
    });
    this.#logins = new Counter({ name: 'porthole_logins_total', help: 'Sign-in attempts with an email and password.', labelNames: ['outcome'], registers });
    this.#connect = new Histogram({
      name: 'porthole_upstream_connect_seconds',
      help: 'Time to open the TCP connection to a VM.',
      labelNames: ['kind', 'outcome'],
      buckets: CONNECT_SECONDS_BUCKETS,
      registers,
    });
    this.#held = new Gauge({ name: 'porthole_sessions_held', help: 'Sessions whose page left, kept for it to resume them.', labelNames: ['kind'], registers });
    this.#resumed = new Counter({ name: 'porthole_sessions_resumed_total', help: 'Held sessions a page resumed.', labelNames: ['kind'], registers });
    this.#draining = new Gauge({ name: 'porthole_draining', help: '1 while the gateway drains before exiting.', registers });
    this.#webhookDeliveries = new Counter({
      name: 'porthole_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome: delivered, failed (to be retried) or gave_up (24 hours of failures).',
      labelNames: ['outcome'],
      registers,
    });
    this.#webhookDropped = new Counter({
      name: 'porthole_webhook_events_dropped_total',
      help: 'Webhook events not written because the outbox held MAX_PENDING_WEBHOOK_ROWS undelivered rows.',
      registers,
    });
    this.#recordingDropped = new Counter({
      name: 'porthole_recording_dropped_bytes_total',
      help: 'Terminal output left out of recordings because the disk did not keep up.',
      registers,
    });
    this.#fileTransfers = new Counter({
      name: 'porthole_file_transfers_total',
      help: 'File downloads, uploads and folder archives that moved bytes, by whether they completed.',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.#fileBytes = new Counter({ name: 'porthole_file_transfer_bytes_total', help: 'Bytes moved by file transfers.', labelNames: ['operation'], registers });
    for (const operation of FILE_OPERATIONS) {
      this.#fileTransfers.inc({ operation, outcome: 'complete' }, 0);
      this.#fileTransfers.inc({ operation, outcome: 'incomplete' }, 0);
      this.#fileBytes.inc({ operation }, 0);
    }
    // Series that exist from the start, so a dashboard's rate() has a zero to start from.
    for (const kind of CONNECTION_KINDS) {
      this.#live.set({ kind }, 0);
      this.#opened.inc({ kind }, 0);
      this.#pauses.inc({ kind }, 0);
      this.#minted.inc({ kind }, 0);
      this.#held.set({ kind }, 0);
      this.#resumed.inc({ kind }, 0);
    }
    this.#draining.set(0);
  }

  observe(event: GatewayEvent): void {
    switch (event.type) {
      case 'connection_opened':
        this.#opened.inc({ kind: event.kind });
        this.#live.inc({ kind: event.kind });
        return;
      case 'connection_closed':
        this.#live.dec({ kind: event.kind });
        this.#closed.inc({ kind: event.kind, code: KNOWN_CLOSE_CODES.has(event.closeCode) ? String(event.closeCode) : 'other', closed_by: event.closedBy });
        return;
      case 'ticket_minted':
        this.#minted.inc({ kind: event.kind });
        return;
      case 'session_detached':
        // Held sessions are counted by their owner (sessionHeld), which knows when holding ends.
        return;
      case 'session_resumed':
        this.#resumed.inc({ kind: event.kind });
        return;
      case 'ticket_refused':
        this.#refused.inc({ stage: event.stage, reason: event.reason });
        return;
      case 'login_succeeded':
        this.#logins.inc({ outcome: 'succeeded' });
        return;
      case 'login_failed':
        this.#logins.inc({ outcome: 'failed' });
        return;
      case 'file_downloaded':
        return this.#fileTransfer('download', event.bytes, event.complete);
      case 'file_uploaded':
        return this.#fileTransfer('upload', event.bytes, true);
      case 'folder_downloaded':
        return this.#fileTransfer('archive', event.bytes, event.complete);
      case 'native_credentials_revealed':
      case 'watch_started':
      case 'watch_ended':
      case 'control_granted':
      case 'control_revoked':
      case 'watcher_removed':
      case 'window_closed':
      case 'access_revoked':
      case 'build_extended':
      case 'build_released':
      case 'host_key_pinned':
      case 'host_key_mismatch':
        return;
    }
  }

  meter(kind: ConnectionKind): ConnectionMeter {
    const to = this.#bytesEntry(kind, 'to_browser');
    const from = this.#bytesEntry(kind, 'from_browser');
    return {
      toBrowser: (bytes) => {
        to.bytes += bytes;
      },
      fromBrowser: (bytes) => {
        from.bytes += bytes;
      },
      paused: () => this.#pauses.inc({ kind }),
    };
  }

  upstreamConnect(kind: ConnectionKind, seconds: number, ok: boolean): void {
    this.#connect.observe({ kind, outcome: ok ? 'connected' : 'failed' }, seconds);
  }

  /** A session began (true) or stopped (false) being held for its page. */
  sessionHeld(kind: ConnectionKind, held: boolean): void {
    if (held) this.#held.inc({ kind });
    else this.#held.dec({ kind });
  }

  webhookAttempt(outcome: 'delivered' | 'failed' | 'gave_up'): void {
    this.#webhookDeliveries.inc({ outcome });
  }

  webhookEventsDropped(count: number): void {
    this.#webhookDropped.inc(count);
  }

  recordingDropped(bytes: number): void {
    this.#recordingDropped.inc(bytes);
  }

  setDraining(draining: boolean): void {
    this.#draining.set(draining ? 1 : 0);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #fileTransfer(operation: FileOperationLabel, bytes: number, complete: boolean): void {
    this.#fileTransfers.inc({ operation, outcome: complete ? 'complete' : 'incomplete' });
    this.#fileBytes.inc({ operation }, bytes);
  }

  #bytesEntry(kind: ConnectionKind, direction: Direction): { kind: ConnectionKind; direction: Direction; bytes: number } {
    const key = `${kind}:${direction}`;
    let entry = this.#unflushedBytes.get(key);
    if (!entry) {
      entry = { kind, direction, bytes: 0 };
      this.#unflushedBytes.set(key, entry);
    }
    return entry;
  }
}
