/**
 * Networked store on PostgreSQL (the `pg` package), for several gateway nodes sharing one
 * database. Same interface and behaviour as the SQLite store; each write is one statement (or one
 * transaction) so concurrent nodes cannot interleave half-done changes.
 */
import pg from 'pg';
import type { AppId, BuildId, RecordingId, UserId } from '../../../../shared/src/ids.js';
import type { Role } from '../../../../shared/src/roles.js';
import { AUDIT_PRUNE_BATCH_ROWS, type AppRecord, type AppUpsert, type AuditEntry, type AuditQuery, type AuditRecord, type RecordingRecord, type BuildListing, type BuildRecord, type MembershipRecord, type SessionRow, type Store, type Upserted, type UserRecord, type UserUpsert } from '../store.js';
import { emailKey } from '../email-key.js';
import { newSessionEpoch } from '../session-epoch.js';
import { earlierCloseTimeSql } from '../../access/close-time.js';
import { APP_COLUMNS, AUDIT_COLUMNS, SESSION_COLUMNS, timedRowMappers, toApp, toUser, USER_COLUMNS, type AppRow, type AuditRow, type BuildRow, type RecordingRow, type SessionTableRow, type UserRow } from '../rows.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { asStoreError } from './pg-errors.js';
import { withTransaction } from './transaction.js';
import { writeOutboxRowsPostgres, type OutboxWrite } from '../../webhooks/outbox.js';

/** Connections one node holds; upgrades and HTTP requests queue for them beyond this. */
export const POOL_SIZE = 10;
/** A database that does not accept a connection this quickly is out of reach: answer 503. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** No single statement of ours takes this long; one that does is stuck behind a lock. */
const STATEMENT_TIMEOUT_MS = 10_000;
/** Any constant shared by every node: serialises schema migrations of nodes starting together. */
const MIGRATION_LOCK_KEY = 0x706f7274; // "port"

/** pg returns TIMESTAMPTZ columns as Dates. */
const { toBuild, toSession, toAudit, toRecording } = timedRowMappers((date: Date) => date);

export interface PostgresStoreOptions {
  /** Told about errors of idle pooled connections (the pool replaces them by itself). */
  readonly onIdleError?: (error: Error) => void;
  /** Shows in pg_stat_activity, so an operator can tell the nodes' connections apart. */
  readonly applicationName?: string;
}

export class PostgresStore implements Store {
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects, and brings the schema up to date (one node at a time). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      application_name: options.applicationName ?? 'porthole',
    });
    // Without a listener an idle connection dropped by the server would crash the process.
    pool.on('error', (error) => options.onIdleError?.(error));
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw asStoreError(error);
    }
    return new PostgresStore(pool);
  }

  /** The pool, for the cluster parts that share this database (tokens, live connections). */
  get pool(): pg.Pool {
    return this.#pool;
  }

  async upsertUser(user: UserUpsert): Promise<Upserted<UserRecord>> {
    const rows = await this.#query<UserRow & { created: boolean }>(
      `INSERT INTO users (id, email, email_key, name, password_hash, oidc_subject, session_epoch, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $7, $9, now(), now())
       ON CONFLICT (id) DO UPDATE SET
         email = EXCLUDED.email, email_key = EXCLUDED.email_key, name = EXCLUDED.name, updated_at = EXCLUDED.updated_at,
         password_hash = CASE WHEN $6 THEN EXCLUDED.password_hash ELSE users.password_hash END,
         oidc_subject = CASE WHEN $8 THEN EXCLUDED.oidc_subject ELSE users.oidc_subject END,
         session_epoch = CASE WHEN $10 THEN EXCLUDED.session_epoch ELSE users.session_epoch END
       RETURNING ${USER_COLUMNS}, (xmax = 0) AS created`,
      [
        user.id, user.email, emailKey(user.email), user.name,
        user.passwordHash ?? null, user.passwordHash !== undefined,
        user.oidcSubject ?? null, user.oidcSubject !== undefined,
        user.sessionEpoch ?? newSessionEpoch(), user.sessionEpoch !== undefined,
      ],
    );
    const row = only(rows);
    return { record: toUser(row), created: row.created };
  }

  async getUser(id: UserId): Promise<UserRecord | null> {
    return first(await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]), toUser);
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    return first(await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = $1`, [emailKey(email)]), toUser);
  }

  async getUserByOidcSubject(subject: string): Promise<UserRecord | null> {
    return first(await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE oidc_subject = $1`, [subject]), toUser);
  }

  async deleteUser(id: UserId): Promise<boolean> {
    // One statement, so no session of the user is left behind by a concurrent writer of the row.
    return (await this.#run('WITH gone AS (DELETE FROM sessions WHERE user_id = $1) DELETE FROM users WHERE id = $1', [id])) > 0;
  }

  async upsertApp(app: AppUpsert): Promise<Upserted<AppRecord>> {
    const rows = await this.#query<AppRow & { created: boolean }>(
      `INSERT INTO apps (id, name, record_sessions, created_at, updated_at) VALUES ($1, $2, $3, now(), now())
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at,
         record_sessions = CASE WHEN $4 THEN apps.record_sessions ELSE EXCLUDED.record_sessions END
       RETURNING ${APP_COLUMNS}, (xmax = 0) AS created`,
      [app.id, app.name, app.recordSessions ?? false, app.recordSessions === undefined],
    );
    const row = only(rows);
    return { record: toApp(row), created: row.created };
  }

  async getApp(id: AppId): Promise<AppRecord | null> {
    return first(await this.#query<AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE id = $1`, [id]), toApp);
  }

  async putMembership(m: MembershipRecord): Promise<Upserted<MembershipRecord>> {
    const rows = await this.#query<{ created: boolean }>(
      `INSERT INTO memberships (app_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (app_id, user_id) DO UPDATE SET role = EXCLUDED.role
       RETURNING (xmax = 0) AS created`,
      [m.appId, m.userId, m.role],
    );
    return { record: { ...m }, created: only(rows).created };
  }

  async deleteMembership(appId: AppId, userId: UserId): Promise<boolean> {
    return (await this.#run('DELETE FROM memberships WHERE app_id = $1 AND user_id = $2', [appId, userId])) > 0;
  }

  async getRole(appId: AppId, userId: UserId): Promise<Role | null> {
    return first(await this.#query<{ role: string }>('SELECT role FROM memberships WHERE app_id = $1 AND user_id = $2', [appId, userId]), (row) => row.role as Role);
  }

  async upsertBuild(b: BuildRecord): Promise<Upserted<BuildRecord>> {
    const rows = await this.#query<BuildRow<Date> & { created: boolean }>(
      `INSERT INTO builds (id, app_id, stack, status, started_at, finished_at, triggered_by, closes_at,
         ssh_host, ssh_port, ssh_username, ssh_password_sealed, ssh_private_key_sealed, ssh_host_key,
         vnc_host, vnc_port, vnc_username, vnc_password_sealed, extension_step_minutes, extension_max_minutes, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, now(), now())
       ON CONFLICT (id) DO UPDATE SET
         app_id = EXCLUDED.app_id, stack = EXCLUDED.stack, status = EXCLUDED.status, started_at = EXCLUDED.started_at,
         finished_at = EXCLUDED.finished_at, triggered_by = EXCLUDED.triggered_by,
         closes_at = ${earlierCloseTimeSql('builds.closes_at', 'EXCLUDED.closes_at')},
         -- A pin belongs to the machine it was taken from: another host or port is another VM.
         ssh_pinned_host_key = CASE
           WHEN builds.ssh_host = EXCLUDED.ssh_host AND builds.ssh_port = EXCLUDED.ssh_port THEN builds.ssh_pinned_host_key END,
         ssh_host = EXCLUDED.ssh_host, ssh_port = EXCLUDED.ssh_port, ssh_username = EXCLUDED.ssh_username,
         ssh_password_sealed = EXCLUDED.ssh_password_sealed, ssh_private_key_sealed = EXCLUDED.ssh_private_key_sealed,
         ssh_host_key = EXCLUDED.ssh_host_key, vnc_host = EXCLUDED.vnc_host, vnc_port = EXCLUDED.vnc_port,
         vnc_username = EXCLUDED.vnc_username, vnc_password_sealed = EXCLUDED.vnc_password_sealed,
         extension_step_minutes = EXCLUDED.extension_step_minutes, extension_max_minutes = EXCLUDED.extension_max_minutes,
         updated_at = EXCLUDED.updated_at
       RETURNING *, (xmax = 0) AS created`,
      [
        b.id, b.appId, b.stack, b.status, b.startedAt, b.finishedAt, b.triggeredBy, b.closesAt,
        b.ssh.host, b.ssh.port, b.ssh.username, b.ssh.sealedPassword, b.ssh.sealedPrivateKey, b.ssh.hostKey,
        b.vnc?.host ?? null, b.vnc?.port ?? null, b.vnc?.username ?? null, b.vnc?.sealedPassword ?? null,
        b.extensions?.stepMinutes ?? null, b.extensions?.maxMinutes ?? null,
      ],
    );
    const row = only(rows);
    return { record: toBuild(row), created: row.created };
  }

  async getBuild(id: BuildId): Promise<BuildRecord | null> {
    return first(await this.#query<BuildRow<Date>>('SELECT * FROM builds WHERE id = $1', [id]), toBuild);
  }

  async listBuildsForUser(userId: UserId): Promise<readonly BuildListing[]> {
    const rows = await this.#query<BuildRow<Date> & { app_name: string; role: string }>(
      `SELECT b.*, a.name AS app_name, m.role AS role FROM builds b
         JOIN memberships m ON m.app_id = b.app_id AND m.user_id = $1
         JOIN apps a ON a.id = b.app_id
       ORDER BY b.started_at DESC, b.id`,
      [userId],
    );
    return rows.map((row) => ({ build: toBuild(row), appName: row.app_name, role: row.role as Role }));
  }

  async finishBuild(id: BuildId, finishedAt: Date, closesAt: Date): Promise<BuildRecord | null> {
    const rows = await this.#query<BuildRow<Date>>(
      `UPDATE builds SET
         status = CASE WHEN status = 'running' THEN 'finished' ELSE status END,
         finished_at = LEAST(COALESCE(finished_at, $2), $2),
         closes_at = ${earlierCloseTimeSql('closes_at', '$3::timestamptz')},
         updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, finishedAt, closesAt],
    );
    return first(rows, toBuild);
  }

  async pinHostKey(id: BuildId, fingerprint: string): Promise<string | null> {
    // The first writer wins: COALESCE keeps a key pinned by a concurrent connection on another node.
    const rows = await this.#query<{ ssh_pinned_host_key: string | null }>(
      'UPDATE builds SET ssh_pinned_host_key = COALESCE(ssh_pinned_host_key, $2) WHERE id = $1 RETURNING ssh_pinned_host_key',
      [id, fingerprint],
    );
    return first(rows, (row) => row.ssh_pinned_host_key);
  }

  async extendWindow(id: BuildId, from: Date, to: Date, outbox?: OutboxWrite): Promise<BuildRecord | null> {
    return this.#changeBuild(
      outbox,
      `UPDATE builds SET closes_at = $3::timestamptz,
         extended_ms = extended_ms + (EXTRACT(EPOCH FROM ($3::timestamptz - $2::timestamptz)) * 1000)::bigint, updated_at = now()
       WHERE id = $1 AND closes_at = $2::timestamptz RETURNING *`,
      [id, from, to],
    );
  }

  async narrowWindow(id: BuildId, at: Date, outbox?: OutboxWrite): Promise<BuildRecord | null> {
    return this.#changeBuild(
      outbox,
      `UPDATE builds SET closes_at = ${earlierCloseTimeSql('closes_at', '$2::timestamptz')}, updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, at],
    );
  }

  async getSession(sid: string): Promise<SessionRow | null> {
    return first(await this.#query<SessionTableRow<Date>>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE sid = $1`, [sid]), toSession);
  }

  async setSession(sid: string, row: SessionRow): Promise<void> {
    await this.#run(
      `INSERT INTO sessions (sid, data, expires_at, user_id, sign_in_id, created_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())
       ON CONFLICT (sid) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at, user_id = EXCLUDED.user_id, sign_in_id = EXCLUDED.sign_in_id`,
      [sid, row.data, row.expiresAt, row.userId, row.signInId],
    );
  }

  async isSignInLive(signInId: string, userId: UserId, now: Date): Promise<boolean> {
    const rows = await this.#query('SELECT 1 FROM sessions WHERE sign_in_id = $1 AND user_id = $2 AND expires_at > $3', [signInId, userId, now]);
    return rows.length > 0;
  }

  async trimUserSessions(userId: UserId, keep: number): Promise<readonly string[]> {
    const rows = await this.#query<{ sign_in_id: string }>(
      `DELETE FROM sessions WHERE user_id = $1 AND sid NOT IN (
         SELECT sid FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, sid LIMIT $2
       ) RETURNING sign_in_id`,
      [userId, keep],
    );
    return rows.map((r) => r.sign_in_id);
  }

  async destroyUserSessions(userId: UserId): Promise<number> {
    return await this.#run('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  async touchSession(sid: string, expiresAt: Date): Promise<void> {
    await this.#run('UPDATE sessions SET expires_at = $2 WHERE sid = $1', [sid, expiresAt]);
  }

  async destroySession(sid: string): Promise<void> {
    await this.#run('DELETE FROM sessions WHERE sid = $1', [sid]);
  }

  async pruneSessions(now: Date): Promise<number> {
    return await this.#run('DELETE FROM sessions WHERE expires_at <= $1', [now]);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // One statement for the lot: arrays of columns, unnested into rows in their order (ids follow it).
    await this.#run(
      `INSERT INTO audit_events (at, event, user_id, build_id, details)
       SELECT at, event, user_id, build_id, details
       FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(at, event, user_id, build_id, details, n)
       ORDER BY n`,
      [entries.map((e) => e.at), entries.map((e) => e.event), entries.map((e) => e.userId), entries.map((e) => e.buildId), entries.map((e) => JSON.stringify(e.details))],
    );
  }

  async pruneAudit(cutoff: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      // In batches: one DELETE of millions of rows would outlast the statement timeout and roll back.
      const changes = await this.#run('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)', [cutoff, AUDIT_PRUNE_BATCH_ROWS]);
      deleted += changes;
      if (changes < AUDIT_PRUNE_BATCH_ROWS) return deleted;
    }
  }

  async listAudit(query: AuditQuery): Promise<readonly AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (n: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.buildId !== undefined) add((n) => `build_id = ${n}`, query.buildId);
    if (query.userId !== undefined) add((n) => `user_id = ${n}`, query.userId);
    if (query.since !== undefined) add((n) => `at >= ${n}`, query.since);
    if (query.beforeId !== undefined) add((n) => `id < ${n}`, query.beforeId);
    params.push(query.limit);
    const rows = await this.#query<AuditRow<Date>>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAudit);
  }

  async addRecording(r: Omit<RecordingRecord, 'endedAt' | 'sizeBytes' | 'droppedBytes'>): Promise<void> {
    await this.#run('INSERT INTO recordings (id, build_id, app_id, user_id, connection_id, started_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      r.id, r.buildId, r.appId, r.userId, r.connectionId, r.startedAt,
    ]);
  }

  async finishRecording(id: RecordingId, endedAt: Date, sizeBytes: number, droppedBytes: number): Promise<void> {
    await this.#run('UPDATE recordings SET ended_at = $2, size_bytes = $3, dropped_bytes = $4 WHERE id = $1', [id, endedAt, sizeBytes, droppedBytes]);
  }

  async getRecording(id: RecordingId): Promise<RecordingRecord | null> {
    return first(await this.#query<RecordingRow<Date>>('SELECT * FROM recordings WHERE id = $1', [id]), toRecording);
  }

  async listRecordings(buildId: BuildId): Promise<readonly RecordingRecord[]> {
    return (await this.#query<RecordingRow<Date>>('SELECT * FROM recordings WHERE build_id = $1 ORDER BY started_at DESC, id', [buildId])).map(toRecording);
  }

  async pruneRecordings(cutoff: Date): Promise<readonly RecordingRecord[]> {
    return (await this.#query<RecordingRow<Date>>('DELETE FROM recordings WHERE started_at < $1 RETURNING *', [cutoff])).map(toRecording);
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1', []);
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  /**
   * One build's update (`sql` returns the row) and, when it changed one, its events in the same
   * transaction, so the other nodes never see the change without its event or the event without it.
   */
  async #changeBuild(outbox: OutboxWrite | undefined, sql: string, params: readonly unknown[]): Promise<BuildRecord | null> {
    if (!outbox) return first(await this.#query<BuildRow<Date>>(sql, params), toBuild);
    return withTransaction(this.#pool, async (client) => {
      const changed = first((await client.query<BuildRow<Date>>(sql, [...params])).rows, toBuild);
      if (changed) await writeOutboxRowsPostgres(client, outbox.events(changed), outbox.endpoints, outbox.now);
      return changed;
    });
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, [...params])).rows;
    } catch (error) {
      throw asStoreError(error);
    }
  }

  async #run(sql: string, params: readonly unknown[]): Promise<number> {
    try {
      return (await this.#pool.query(sql, [...params])).rowCount ?? 0;
    } catch (error) {
      throw asStoreError(error);
    }
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)');
    for (const m of POSTGRES_MIGRATIONS) {
      await client.query('BEGIN');
      try {
        // Held to the end of this transaction: a node starting at the same moment waits, then skips.
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        const applied = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
        if (applied.rowCount === 0) {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [m.version, m.name]);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
  } finally {
    client.release();
  }
}

function only<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('expected one row from RETURNING');
  return row;
}

function first<R, T>(rows: readonly R[], map: (row: R) => T): T | null {
  const row = rows[0];
  return row === undefined ? null : map(row);
}
