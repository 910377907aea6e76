/**
 * Cross-node access changes over PostgreSQL LISTEN/NOTIFY. Each node keeps one dedicated
 * connection (not from the pool: a pooled connection would drop the LISTEN when released) and
 * probes it every second, which also tells how long ago the node last heard from the database.
 * A dropped connection is reopened with backoff; every (re)connect is followed by a
 * reconciliation, because notifications sent while it was down are gone for good.
 */
import pg from 'pg';
import type { Logger } from '../log.js';
import { decodeChange, encodeChange, type AccessChange } from './access-changes.js';

/** One channel for every kind of access change; payloads are a few hundred bytes (limit 8000). */
export const ACCESS_CHANNEL = 'porthole_access';
/** How often the listening connection is checked (and database contact confirmed). */
export const PROBE_INTERVAL_MS = 1_000;
/** A probe unanswered this long means the connection is gone, even if TCP has not noticed. */
const PROBE_TIMEOUT_MS = 2_000;
/** Reconnect backoff: quick at first (a restart of PostgreSQL), then no faster than this. */
const RECONNECT_INITIAL_MS = 250;
const RECONNECT_MAX_MS = 5_000;
/** A database that does not accept the connection this quickly is treated as out of reach. */
const CONNECT_TIMEOUT_MS = 5_000;
/** pg_stat_activity's application_name of the listening connection, followed by the node id. */
export const LISTENER_APPLICATION_PREFIX = 'porthole-listen:';

export interface NotificationListenerDeps {
  readonly url: string;
  readonly nodeId: string;
  readonly logger: Logger;
  /** A change published by another node. */
  readonly onChange: (change: AccessChange) => void;
  /** The connection is (again) listening: catch up on whatever was missed. */
  readonly onListening: () => void;
  readonly now?: () => number;
}

export class NotificationListener {
  readonly #deps: NotificationListenerDeps;
  readonly #now: () => number;
  #client: pg.Client | null = null;
  #lastContact: number;
  #backoff = RECONNECT_INITIAL_MS;
  #reconnectTimer: NodeJS.Timeout | null = null;
  readonly #probeTimer: NodeJS.Timeout;
  #probing = false;
  #stopped = false;

  constructor(deps: NotificationListenerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#lastContact = this.#now();
    this.#probeTimer = setInterval(() => this.#probe(), PROBE_INTERVAL_MS);
    this.#probeTimer.unref();
    void this.#connect();
  }

  /** When the database last answered this node (epoch ms). */
  get lastContact(): number {
    return this.#lastContact;
  }

  get listening(): boolean {
    return this.#client !== null;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#probeTimer);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({
      connectionString: this.#deps.url,
      application_name: `${LISTENER_APPLICATION_PREFIX}${this.#deps.nodeId}`,
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: PROBE_TIMEOUT_MS,
    });
    let lost = false;
    const onLost = (error?: Error): void => {
      if (lost) return;
      lost = true;
      this.#lost(client, error);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel !== ACCESS_CHANNEL || message.payload === undefined) return;
      const decoded = decodeChange(message.payload);
      if (!decoded) {
        this.#deps.logger.warn({ event: 'cluster_bad_notification' }, 'ignored a malformed access notification');
        return;
      }
      this.#lastContact = this.#now();
      // This node applied its own changes before publishing them.
      if (decoded.node !== this.#deps.nodeId) this.#deps.onChange(decoded.change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ACCESS_CHANNEL}`);
    } catch (error) {
      onLost(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (lost) return;
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#lastContact = this.#now();
    this.#backoff = RECONNECT_INITIAL_MS;
    this.#deps.logger.info({ event: 'cluster_listening', channel: ACCESS_CHANNEL }, 'listening for access changes from other nodes');
    this.#deps.onListening();
  }

  #lost(client: pg.Client, error: Error | undefined): void {
    if (this.#client === client) this.#client = null;
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    this.#deps.logger.warn({ event: 'cluster_listen_lost', err: error?.message, retryInMs: this.#backoff }, 'lost the access-change notifications; reconnecting');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#connect();
    }, this.#backoff);
    this.#reconnectTimer.unref();
    this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MAX_MS);
  }

  #probe(): void {
    const client = this.#client;
    if (!client || this.#probing) return;
    this.#probing = true;
    client.query('SELECT 1').then(
      () => {
        this.#probing = false;
        this.#lastContact = this.#now();
      },
      (error: unknown) => {
        this.#probing = false;
        // A timed-out probe leaves the connection unusable: drop it and start over.
        client.emit('error', error instanceof Error ? error : new Error(String(error)));
      },
    );
  }
}

/** Publishes a change for every node (this one ignores its own). */
export async function publishChange(pool: pg.Pool, nodeId: string, change: AccessChange): Promise<void> {
  await pool.query('SELECT pg_notify($1, $2)', [ACCESS_CHANNEL, encodeChange(nodeId, change)]);
}
