/**
 * The webhook outbox: events written to the store (in the transaction of the change they report,
 * where there is one: see OutboxWrite), delivered later by whichever node claims them
 * (./delivery.ts). One row per event and endpoint. Only the oldest pending row of each
 * endpoint and build may be claimed, so a build's events reach a receiver in order; a claim is a
 * lease (`claimed_by`, `claimed_until`) so a node that dies mid-delivery leaves its rows to others
 * once the lease runs out. SQLite (one node) and PostgreSQL (several, `FOR UPDATE SKIP LOCKED`)
 * implement the same interface.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { withTransaction } from '../store/postgres/transaction.js';
import type { WebhookEvent } from './events.js';
import type { RetryDecision } from './backoff.js';
import type { BuildRecord } from '../store/store.js';

/**
 * A store change's events, for the store to write in the change's own transaction (build.extended,
 * build.released: ./window-changes.ts): built from the build as changed, so they say what was
 * committed, and written only when the change was made.
 */
export interface OutboxWrite {
  readonly endpoints: readonly string[];
  readonly now: Date;
  readonly events: (changed: BuildRecord) => readonly WebhookEvent[];
}

/** One pending delivery, as claimed. */
export interface OutboxRow {
  readonly seq: number;
  readonly eventId: string;
  readonly endpoint: string;
  readonly buildId: string;
  readonly type: string;
  /** The JSON body, exactly as signed and sent. */
  readonly payload: string;
  readonly createdAt: Date;
  /** Failed attempts so far. */
  readonly attempts: number;
}

export type AttemptOutcome = 'delivered' | 'failed' | 'gave_up';

/** One attempt, for `GET /api/v1/webhook-deliveries`. Never the payload's secret parts: there are none. */
export interface DeliveryAttempt {
  readonly at: Date;
  readonly eventId: string;
  readonly endpoint: string;
  readonly type: string;
  readonly buildId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export type Settlement = { readonly kind: 'delivered' } | RetryDecision;

export interface WebhookOutbox {
  /**
   * Writes one row per event and endpoint, unless the pending rows would pass `maxPending`: then
   * the events are not written and their number is returned (the caller counts and logs them).
   */
  enqueue(events: readonly WebhookEvent[], endpoints: readonly string[], maxPending: number, now: Date): Promise<number>;
  /** Claims up to `max` deliverable rows for `nodeId` until `now + leaseMs`. */
  claim(nodeId: string, now: Date, leaseMs: number, max: number): Promise<readonly OutboxRow[]>;
  /** Records the attempt and settles the row, if this node still holds its claim. */
  settle(row: OutboxRow, nodeId: string, settlement: Settlement, attempt: DeliveryAttempt): Promise<void>;
  /**
   * Whether a build.attached or build.detached for the build was written (by any node) at or after
   * `since`: someone else's connection has already said how the build stands.
   */
  attachmentSaidSince(buildId: string, since: Date): Promise<boolean>;
  /** Newest first. */
  listAttempts(limit: number): Promise<readonly DeliveryAttempt[]>;
  /**
   * Rows no node has settled yet, across all nodes (claimed ones included). Zero means no delivery
   * is still to come: a claim's lease outlives its request's timeout (delivery.ts).
   */
  countPending(): Promise<number>;
  /** Deletes settled rows and attempts older than `cutoff`; returns how many rows. */
  prune(cutoff: Date): Promise<number>;
}

interface AttemptRow<T> {
  at: T;
  event_id: string;
  endpoint: string;
  type: string;
  build_id: string;
  attempt: number;
  outcome: AttemptOutcome;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

interface PendingRow<T> {
  seq: number | string;
  event_id: string;
  endpoint: string;
  build_id: string;
  type: string;
  payload: string;
  created_at: T;
  attempts: number;
}

function toRow<T>(row: PendingRow<T>, date: (t: T) => Date): OutboxRow {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    endpoint: row.endpoint,
    buildId: row.build_id,
    type: row.type,
    payload: row.payload,
    createdAt: date(row.created_at),
    attempts: row.attempts,
  };
}

function toAttempt<T>(row: AttemptRow<T>, date: (t: T) => Date): DeliveryAttempt {
  return {
    at: date(row.at),
    eventId: row.event_id,
    endpoint: row.endpoint,
    type: row.type,
    buildId: row.build_id,
    attempt: row.attempt,
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    durationMs: row.duration_ms,
  };
}

/**
 * Deliverable: pending, due, unclaimed (or its lease run out), and the oldest pending row of its
 * endpoint and build, so a build's events go out in order even when an earlier one is retrying.
 */
const DELIVERABLE = `
  o.status = 'pending' AND o.next_attempt_at <= $now AND (o.claimed_until IS NULL OR o.claimed_until <= $now)
  AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.endpoint = o.endpoint AND p.build_id = o.build_id AND p.seq < o.seq)`;

/** Rows no node has settled yet; enqueue bounds them, GET /api/v1/webhook-deliveries reports them. */
const PENDING_COUNT = `SELECT count(*) AS n FROM webhook_outbox WHERE status = 'pending'`;
const ATTACHMENT_SAID = `SELECT 1 FROM webhook_outbox WHERE build_id = $build AND type IN ('build.attached', 'build.detached') AND created_at >= $since LIMIT 1`;

const statusOf = (s: Settlement): string => (s.kind === 'delivered' ? 'delivered' : s.kind === 'give_up' ? 'failed' : 'pending');

/**
 * Writes the events' rows with no limit check, on the caller's connection: called inside a store
 * transaction (build.extended, build.released), the events commit or roll back with the change.
 * No limit, because those are a user's click each, and dropping one would lose the very event that
 * tells the orchestrator it may keep or free the VM. better-sqlite3 runs it as part of whatever
 * transaction is open. Only a duplicate id is skipped (a retried write); any other failure throws,
 * so no change commits without its event.
 */
export function writeOutboxRowsSqlite(db: Database.Database, events: readonly WebhookEvent[], endpoints: readonly string[], now: Date): void {
  const insert = db.prepare(
    `INSERT INTO webhook_outbox (event_id, endpoint, build_id, type, payload, created_at, next_attempt_at, attempts, status) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'pending')
     ON CONFLICT (event_id, endpoint) DO NOTHING`,
  );
  for (const event of events) {
    const payload = JSON.stringify(event);
    for (const endpoint of endpoints) insert.run(event.id, endpoint, event.build.id, event.type, payload, Date.parse(event.timestamp), now.getTime());
  }
}

/** As writeOutboxRowsSqlite, on a PostgreSQL client inside the caller's transaction (or the pool). */
export async function writeOutboxRowsPostgres(client: pg.ClientBase | pg.Pool, events: readonly WebhookEvent[], endpoints: readonly string[], now: Date): Promise<void> {
  if (events.length === 0 || endpoints.length === 0) return;
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (const event of events) {
    const payload = JSON.stringify(event);
    for (const endpoint of endpoints) {
      const b = values.length;
      tuples.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, 0, 'pending')`);
      values.push(event.id, endpoint, event.build.id, event.type, payload, new Date(event.timestamp), now);
    }
  }
  // One statement: the events of one batch commit together, in the order they were observed.
  await client.query(
    `INSERT INTO webhook_outbox (event_id, endpoint, build_id, type, payload, created_at, next_attempt_at, attempts, status) VALUES ${tuples.join(', ')}
     ON CONFLICT (event_id, endpoint) DO NOTHING`,
    values,
  );
}

export function sqliteOutbox(db: Database.Database): WebhookOutbox {
  const ms = (t: number) => new Date(t);
  const pendingCount = db.prepare(PENDING_COUNT);
  const countPending = (): number => (pendingCount.get() as { n: number }).n;
  const enqueueTx = db.transaction((events: readonly WebhookEvent[], endpoints: readonly string[], maxPending: number, now: number): number => {
    if (countPending() + events.length * endpoints.length > maxPending) return events.length;
    writeOutboxRowsSqlite(db, events, endpoints, new Date(now));
    return 0;
  });
  const claimStmt = db.prepare(
    `UPDATE webhook_outbox SET claimed_by = $node, claimed_until = $until
     WHERE seq IN (SELECT o.seq FROM webhook_outbox o WHERE ${DELIVERABLE} ORDER BY o.seq LIMIT $max)
     RETURNING seq, event_id, endpoint, build_id, type, payload, created_at, attempts`,
  );
  const settleStmt = db.prepare(
    `UPDATE webhook_outbox SET status = ?, attempts = attempts + ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL, settled_at = ?
     WHERE seq = ? AND claimed_by = ?`,
  );
  const attemptStmt = db.prepare(
    `INSERT INTO webhook_attempts (at, event_id, endpoint, type, build_id, attempt, outcome, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const settleTx = db.transaction((row: OutboxRow, nodeId: string, s: Settlement, a: DeliveryAttempt) => {
    const changed = settleStmt.run(
      statusOf(s),
      s.kind === 'delivered' ? 0 : 1,
      s.kind === 'retry' ? s.at.getTime() : a.at.getTime(),
      s.kind === 'retry' ? null : a.at.getTime(),
      row.seq,
      nodeId,
    ).changes;
    // A lost lease means another node has the row now: its attempt is the one on record.
    if (changed === 0) return;
    attemptStmt.run(a.at.getTime(), a.eventId, a.endpoint, a.type, a.buildId, a.attempt, a.outcome, a.statusCode, a.error, a.durationMs);
  });
  return {
    enqueue: async (events, endpoints, maxPending, now) => (events.length === 0 || endpoints.length === 0 ? 0 : enqueueTx(events, endpoints, maxPending, now.getTime())),
    claim: async (nodeId, now, leaseMs, max) =>
      (claimStmt.all({ node: nodeId, until: now.getTime() + leaseMs, now: now.getTime(), max }) as PendingRow<number>[]).map((r) => toRow(r, ms)).sort((a, b) => a.seq - b.seq),
    settle: async (row, nodeId, s, a) => settleTx(row, nodeId, s, a),
    attachmentSaidSince: async (buildId, since) => db.prepare(ATTACHMENT_SAID).get({ build: buildId, since: since.getTime() }) !== undefined,
    listAttempts: async (limit) =>
      (db.prepare('SELECT * FROM webhook_attempts ORDER BY id DESC LIMIT ?').all(limit) as AttemptRow<number>[]).map((r) => toAttempt(r, ms)),
    countPending: async () => countPending(),
    prune: async (cutoff) => {
      const t = cutoff.getTime();
      db.prepare('DELETE FROM webhook_attempts WHERE at < ?').run(t);
      return db.prepare(`DELETE FROM webhook_outbox WHERE status <> 'pending' AND settled_at < ?`).run(t).changes;
    },
  };
}

export function postgresOutbox(pool: pg.Pool): WebhookOutbox {
  const date = (t: Date) => t;
  const numbered = (sql: string) => sql.replaceAll('$now', '$1');
  const countPending = async (): Promise<number> => {
    const { rows } = await pool.query<{ n: string }>(PENDING_COUNT);
    return Number(rows[0]?.n ?? 0);
  };
  return {
    async enqueue(events, endpoints, maxPending, now) {
      if (events.length === 0 || endpoints.length === 0) return 0;
      // A count then an insert: two nodes may overshoot the limit by a batch each, which a bound
      // against unbounded growth tolerates.
      if ((await countPending()) + events.length * endpoints.length > maxPending) return events.length;
      await writeOutboxRowsPostgres(pool, events, endpoints, now);
      return 0;
    },
    async claim(nodeId, now, leaseMs, max) {
      const { rows } = await pool.query<PendingRow<Date>>(
        `UPDATE webhook_outbox SET claimed_by = $2, claimed_until = $3
         WHERE seq IN (SELECT o.seq FROM webhook_outbox o WHERE ${numbered(DELIVERABLE)} ORDER BY o.seq LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING seq, event_id, endpoint, build_id, type, payload, created_at, attempts`,
        [now, nodeId, new Date(now.getTime() + leaseMs), max],
      );
      return rows.map((r) => toRow(r, date)).sort((a, b) => a.seq - b.seq);
    },
    async settle(row, nodeId, s, a) {
      await withTransaction(pool, async (client) => {
        const changed = await client.query(
          `UPDATE webhook_outbox SET status = $1, attempts = attempts + $2, next_attempt_at = $3, claimed_by = NULL, claimed_until = NULL, settled_at = $4
           WHERE seq = $5 AND claimed_by = $6`,
          [statusOf(s), s.kind === 'delivered' ? 0 : 1, s.kind === 'retry' ? s.at : a.at, s.kind === 'retry' ? null : a.at, row.seq, nodeId],
        );
        if ((changed.rowCount ?? 0) > 0) {
          await client.query(
            `INSERT INTO webhook_attempts (at, event_id, endpoint, type, build_id, attempt, outcome, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [a.at, a.eventId, a.endpoint, a.type, a.buildId, a.attempt, a.outcome, a.statusCode, a.error, a.durationMs],
          );
        }
      });
    },
    async attachmentSaidSince(buildId, since) {
      const { rowCount } = await pool.query(ATTACHMENT_SAID.replace('$build', '$1').replace('$since', '$2'), [buildId, since]);
      return (rowCount ?? 0) > 0;
    },
    async listAttempts(limit) {
      const { rows } = await pool.query<AttemptRow<Date>>('SELECT * FROM webhook_attempts ORDER BY id DESC LIMIT $1', [limit]);
      return rows.map((r) => toAttempt(r, date));
    },
    countPending,
    async prune(cutoff) {
      await pool.query('DELETE FROM webhook_attempts WHERE at < $1', [cutoff]);
      const result = await pool.query(`DELETE FROM webhook_outbox WHERE status <> 'pending' AND settled_at < $1`, [cutoff]);
      return result.rowCount ?? 0;
    },
  };
}
