/**
 * The live view (GET /api/v1/builds/{buildId}/sessions): which connections are open on which
 * node. One node answers from its own enforcer. With PostgreSQL each node keeps a row per live
 * connection, written when it opens, deleted when it ends, and refreshed (with its byte counts)
 * by a heartbeat; rows of a node that died without cleaning up go stale and are ignored, then
 * pruned.
 */
import type pg from 'pg';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { LiveSessionView } from '../../../shared/src/api.js';
import type { Logger } from '../log.js';
import type { AccessEnforcer, ConnectionHandle, ConnectionLifecycleObserver } from '../sessions/access-enforcer.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { RemoteSession, RemoteSessionListing, RemoteSessionLocator, SessionOwner, SessionPairing } from '../sessions/session-directory.js';
import { parsePairing } from './pairing-column.js';

/** How often a node refreshes its rows (seen time and byte counts). */
export const LIVE_HEARTBEAT_MS = 5_000;
/** Rows not refreshed for this long belong to a node that is gone: three missed heartbeats. */
export const STALE_AFTER_MS = 3 * LIVE_HEARTBEAT_MS;

export interface LiveConnectionDirectory {
  /** Live connections to a build on every node, oldest first. */
  list(buildId: BuildId): Promise<readonly LiveSessionView[]>;
}

function pairingColumn(pairing: SessionPairing | null): string | null {
  return pairing === null ? null : JSON.stringify(pairing);
}

function bytesOf(handle: ConnectionHandle): { toBrowser: number; fromBrowser: number } {
  return handle.bytes?.() ?? { toBrowser: 0, fromBrowser: 0 };
}

/** One node: the enforcer knows every live connection there is. */
export function localDirectory(nodeId: string, enforcer: Pick<AccessEnforcer, 'liveConnections'>): LiveConnectionDirectory {
  return {
    list: async (buildId) =>
      enforcer
        .liveConnections()
        .filter((c) => c.buildId === buildId)
        .sort((a, b) => a.openedAt.getTime() - b.openedAt.getTime())
        .map((c) => {
          const bytes = bytesOf(c);
          return {
            node: nodeId,
            connectionId: String(c.id),
            userId: c.userId,
            kind: c.kind,
            openedAt: c.openedAt.toISOString(),
            bytesToBrowser: bytes.toBrowser,
            bytesFromBrowser: bytes.fromBrowser,
          };
        }),
  };
}

interface LiveRow {
  node_id: string;
  connection_id: string;
  user_id: string;
  kind: string;
  opened_at: Date;
  bytes_to_browser: string;
  bytes_from_browser: string;
}

/**
 * Several nodes: rows in live_connections, shared through PostgreSQL. A resumable session's row
 * also names its session and the URL its node takes relayed pages at, so any node finds it.
 */
export class PostgresLiveRegistry implements LiveConnectionDirectory, ConnectionLifecycleObserver, RemoteSessionLocator {
  readonly #pool: pg.Pool;
  readonly #nodeId: string;
  readonly #nodeUrl: string | null;
  readonly #logger: Logger;
  readonly #live = new Map<number, ConnectionHandle>();
  readonly #timer: NodeJS.Timeout;

  constructor(pool: pg.Pool, node: { readonly id: string; readonly url: string | null }, logger: Logger) {
    this.#pool = pool;
    this.#nodeId = node.id;
    this.#nodeUrl = node.url;
    this.#logger = logger;
    this.#timer = setInterval(() => void this.heartbeat(), LIVE_HEARTBEAT_MS);
    this.#timer.unref();
  }

  opened(connection: ConnectionHandle): void {
    this.#live.set(connection.id, connection);
    this.#write(this.#upsert([connection]));
  }

  closed(connection: ConnectionHandle): void {
    this.#live.delete(connection.id);
    this.#write(this.#pool.query('DELETE FROM live_connections WHERE node_id = $1 AND connection_id = $2', [this.#nodeId, String(connection.id)]));
  }

  /** Refreshes this node's rows, forgets rows it no longer has (ended while the database was away) and prunes dead nodes' rows. */
  async heartbeat(): Promise<void> {
    const live = [...this.#live.values()];
    try {
      await this.#upsert(live);
      await this.#pool.query('DELETE FROM live_connections WHERE node_id = $1 AND NOT (connection_id = ANY($2::text[]))', [this.#nodeId, live.map((c) => String(c.id))]);
      await this.#pool.query(`DELETE FROM live_connections WHERE seen_at < now() - make_interval(secs => $1)`, [(STALE_AFTER_MS * 4) / 1000]);
    } catch (error) {
      this.#logger.warn({ event: 'live_registry_failed', err: error }, 'could not refresh the live-connection registry');
    }
  }

  async list(buildId: BuildId): Promise<readonly LiveSessionView[]> {
    const { rows } = await this.#pool.query<LiveRow>(
      `SELECT node_id, connection_id, user_id, kind, opened_at, bytes_to_browser, bytes_from_browser FROM live_connections
       WHERE build_id = $1 AND seen_at >= now() - make_interval(secs => $2)
       ORDER BY opened_at, node_id, connection_id`,
      [buildId, STALE_AFTER_MS / 1000],
    );
    return rows.map((r) => ({
      node: r.node_id,
      connectionId: r.connection_id,
      userId: r.user_id as UserId,
      kind: r.kind as ConnectionKind,
      openedAt: r.opened_at.toISOString(),
      bytesToBrowser: Number(r.bytes_to_browser),
      bytesFromBrowser: Number(r.bytes_from_browser),
    }));
  }

  /** Another live node's session of this user, build and kind; a stale row (its node is gone) finds nothing. */
  async locate(id: string, owner: SessionOwner): Promise<RemoteSession | null> {
    const { rows } = await this.#pool.query<{ node_id: string; node_url: string }>(
      `SELECT node_id, node_url FROM live_connections
       WHERE session_id = $1 AND user_id = $2 AND build_id = $3 AND kind = $4 AND node_id <> $5
         AND node_url IS NOT NULL AND seen_at >= now() - make_interval(secs => $6)
       LIMIT 1`,
      [id, owner.userId, owner.buildId, owner.kind, this.#nodeId, STALE_AFTER_MS / 1000],
    );
    const row = rows[0];
    return row ? { nodeId: row.node_id, nodeUrl: row.node_url } : null;
  }

  /** Another live node's session of any member on this build and kind: a watcher's (its access is checked apart). */
  async locateOnBuild(id: string, where: Omit<SessionOwner, 'userId'>): Promise<RemoteSession | null> {
    const { rows } = await this.#pool.query<{ node_id: string; node_url: string }>(
      `SELECT node_id, node_url FROM live_connections
       WHERE session_id = $1 AND build_id = $2 AND kind = $3 AND node_id <> $4
         AND node_url IS NOT NULL AND seen_at >= now() - make_interval(secs => $5)
       LIMIT 1`,
      [id, where.buildId, where.kind, this.#nodeId, STALE_AFTER_MS / 1000],
    );
    const row = rows[0];
    return row ? { nodeId: row.node_id, nodeUrl: row.node_url } : null;
  }

  /** Tells the other nodes at once who is on one of this node's sessions. */
  changed(connection: ConnectionHandle): void {
    if (this.#live.has(connection.id)) this.#write(this.#upsert([connection]));
  }

  /** Sessions of the build on the other live nodes, as their last write says (see `changed`). */
  async sessionsOn(buildId: BuildId): Promise<readonly RemoteSessionListing[]> {
    const { rows } = await this.#pool.query<{ node_id: string; node_url: string | null; session_id: string; user_id: string; kind: string; opened_at: Date; pairing: unknown }>(
      `SELECT node_id, node_url, session_id, user_id, kind, opened_at, pairing FROM live_connections
       WHERE build_id = $1 AND session_id IS NOT NULL AND node_id <> $2 AND seen_at >= now() - make_interval(secs => $3)
       ORDER BY opened_at, node_id, connection_id`,
      [buildId, this.#nodeId, STALE_AFTER_MS / 1000],
    );
    return rows.map((r) => ({
      nodeId: r.node_id,
      nodeUrl: r.node_url,
      sessionId: r.session_id,
      userId: r.user_id as UserId,
      buildId,
      kind: r.kind as ConnectionKind,
      startedAt: r.opened_at,
      pairing: parsePairing(r.pairing, r.user_id),
    }));
  }

  /** Removes this node's rows (clean shutdown). */
  async dispose(): Promise<void> {
    clearInterval(this.#timer);
    await this.#pool.query('DELETE FROM live_connections WHERE node_id = $1', [this.#nodeId]).catch(() => undefined);
  }

  async #upsert(connections: readonly ConnectionHandle[]): Promise<void> {
    if (connections.length === 0) return;
    const bytes = connections.map(bytesOf);
    await this.#pool.query(
      `INSERT INTO live_connections (node_id, connection_id, build_id, user_id, kind, opened_at, bytes_to_browser, bytes_from_browser, session_id, node_url, pairing, seen_at)
       SELECT $1, v.id, v.build, v.usr, v.kind, v.opened, v.tb, v.fb, v.session, CASE WHEN v.session IS NULL THEN NULL ELSE $10 END, v.pairing, now()
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bigint[], $8::bigint[], $9::text[], $11::jsonb[])
         AS v(id, build, usr, kind, opened, tb, fb, session, pairing)
       ON CONFLICT (node_id, connection_id) DO UPDATE SET
         seen_at = EXCLUDED.seen_at, bytes_to_browser = EXCLUDED.bytes_to_browser, bytes_from_browser = EXCLUDED.bytes_from_browser,
         pairing = EXCLUDED.pairing`,
      [
        this.#nodeId,
        connections.map((c) => String(c.id)),
        connections.map((c) => c.buildId),
        connections.map((c) => c.userId),
        connections.map((c) => c.kind),
        connections.map((c) => c.openedAt),
        bytes.map((b) => b.toBrowser),
        bytes.map((b) => b.fromBrowser),
        connections.map((c) => c.sessionId ?? null),
        this.#nodeUrl,
        connections.map((c) => pairingColumn(c.pairing?.() ?? null)),
      ],
    );
  }

  #write(query: Promise<unknown>): void {
    // The heartbeat repairs whatever a failed write left behind.
    query.catch((error: unknown) => this.#logger.warn({ event: 'live_registry_failed', err: error }, 'could not update the live-connection registry'));
  }
}
