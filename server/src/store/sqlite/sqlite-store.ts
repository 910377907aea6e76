/**
 * Embedded store on better-sqlite3 (12.x: 13 needs Node 22). Calls are synchronous underneath; the
 * async interface lets a networked store stand in without changing callers.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AppId, BuildId, RecordingId, UserId } from '../../../../shared/src/ids.js';
import type { Role } from '../../../../shared/src/roles.js';
import { AUDIT_PRUNE_BATCH_ROWS, type AppRecord, type AppUpsert, type AuditEntry, type AuditQuery, type AuditRecord, type BuildListing, type BuildRecord, type MembershipRecord, type RecordingRecord, type SessionRow, type Store, type Upserted, type UserRecord, type UserUpsert } from '../store.js';
import { MIGRATIONS } from './migrations.js';
import { emailKey } from '../email-key.js';
import { newSessionEpoch } from '../session-epoch.js';
import { earlierCloseTime, earlierCloseTimeSql } from '../../access/close-time.js';
import { writeOutboxRowsSqlite, type OutboxWrite } from '../../webhooks/outbox.js';
import { APP_COLUMNS, AUDIT_COLUMNS, SESSION_COLUMNS, timedRowMappers, toApp, toUser, USER_COLUMNS, type AppRow, type AuditRow, type BuildRow, type RecordingRow, type SessionTableRow, type UserRow } from '../rows.js';

const DATA_DIR_MODE = 0o700;
const DATABASE_FILE_MODE = 0o600;
/**
 * How long a query waits for another process's lock (a backup, an operator's sqlite3 shell).
 * better-sqlite3 waits synchronously, freezing every live terminal, so the wait is short: longer
 * locks become a 503 `store_unavailable` that the client retries.
 */
const BUSY_TIMEOUT_MS = 200;

/** better-sqlite3 returns times as the epoch milliseconds this store writes. */
type EpochMs = number;
const { toBuild, toSession, toAudit, toRecording } = timedRowMappers((ms: EpochMs) => new Date(ms));

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  /** Audit rows in one transaction, the statement prepared once: the trail writes on every connection's end. */
  readonly #appendAuditRows: (entries: readonly AuditEntry[]) => void;

  private constructor(db: Database.Database) {
    this.#db = db;
    const insertAudit = db.prepare('INSERT INTO audit_events (at, event, user_id, build_id, details) VALUES (?, ?, ?, ?, ?)');
    this.#appendAuditRows = db.transaction((entries: readonly AuditEntry[]) => {
      for (const entry of entries) insertAudit.run(entry.at.getTime(), entry.event, entry.userId, entry.buildId, JSON.stringify(entry.details));
    });
  }

  /** The connection, for parts with tables of their own here (the webhook outbox), as PostgresStore lends its pool. */
  get database(): Database.Database {
    return this.#db;
  }

  /** Opens (creating if needed) the database file and brings its schema up to date. */
  static open(path: string): SqliteStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: DATA_DIR_MODE });
    const db = new Database(path);
    // Sessions and password hashes live here: readable by the gateway's user only.
    if (path !== ':memory:') chmodSync(path, DATABASE_FILE_MODE);
    db.pragma('journal_mode = WAL');
    // With WAL, NORMAL syncs at checkpoints instead of every commit: still corruption-safe, and the
    // audit rows each connection writes no longer cost an fsync apiece on the event loop.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db);
    return new SqliteStore(db);
  }

  async upsertUser(user: UserUpsert): Promise<Upserted<UserRecord>> {
    const now = Date.now();
    const tx = this.#db.transaction((): Upserted<UserRecord> => {
      const existing = this.#db.prepare('SELECT id FROM users WHERE id = ?').get(user.id);
      if (existing) {
        this.#db
          .prepare(
            `UPDATE users SET email = ?, email_key = ?, name = ?, updated_at = ?,
               password_hash = CASE WHEN ? THEN ? ELSE password_hash END,
               oidc_subject = CASE WHEN ? THEN ? ELSE oidc_subject END,
               session_epoch = COALESCE(?, session_epoch)
             WHERE id = ?`,
          )
          .run(
            user.email, emailKey(user.email), user.name, now,
            user.passwordHash === undefined ? 0 : 1, user.passwordHash ?? null,
            user.oidcSubject === undefined ? 0 : 1, user.oidcSubject ?? null,
            user.sessionEpoch ?? null,
            user.id,
          );
      } else {
        this.#db
          .prepare('INSERT INTO users (id, email, email_key, name, password_hash, oidc_subject, session_epoch, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(user.id, user.email, emailKey(user.email), user.name, user.passwordHash ?? null, user.oidcSubject ?? null, user.sessionEpoch ?? newSessionEpoch(), now, now);
      }
      const row = this.#db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(user.id) as UserRow;
      return { record: toUser(row), created: !existing };
    });
    return tx();
  }

  async getUser(id: UserId): Promise<UserRecord | null> {
    const row = this.#db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    const row = this.#db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = ?`).get(emailKey(email)) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async getUserByOidcSubject(subject: string): Promise<UserRecord | null> {
    const row = this.#db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE oidc_subject = ?`).get(subject) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async deleteUser(id: UserId): Promise<boolean> {
    const tx = this.#db.transaction((): boolean => {
      this.#db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
      return this.#db.prepare('DELETE FROM users WHERE id = ?').run(id).changes > 0;
    });
    return tx();
  }

  async upsertApp(app: AppUpsert): Promise<Upserted<AppRecord>> {
    const now = Date.now();
    const tx = this.#db.transaction((): Upserted<AppRecord> => {
      const existed = this.#db.prepare('SELECT 1 FROM apps WHERE id = ?').get(app.id) !== undefined;
      const keep = app.recordSessions === undefined ? 1 : 0;
      const record = app.recordSessions ? 1 : 0;
      this.#db
        .prepare(
          `INSERT INTO apps (id, name, record_sessions, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at,
             record_sessions = CASE WHEN ? THEN apps.record_sessions ELSE excluded.record_sessions END`,
        )
        .run(app.id, app.name, record, now, now, keep);
      return { record: this.#readApp(app.id) as AppRecord, created: !existed };
    });
    return tx();
  }

  async getApp(id: AppId): Promise<AppRecord | null> {
    return this.#readApp(id);
  }

  async putMembership(m: MembershipRecord): Promise<Upserted<MembershipRecord>> {
    const tx = this.#db.transaction((): boolean => {
      const existed = this.#db.prepare('SELECT 1 FROM memberships WHERE app_id = ? AND user_id = ?').get(m.appId, m.userId) !== undefined;
      this.#db
        .prepare('INSERT INTO memberships (app_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT(app_id, user_id) DO UPDATE SET role = excluded.role')
        .run(m.appId, m.userId, m.role);
      return !existed;
    });
    return { record: { ...m }, created: tx() };
  }

  async deleteMembership(appId: AppId, userId: UserId): Promise<boolean> {
    return this.#db.prepare('DELETE FROM memberships WHERE app_id = ? AND user_id = ?').run(appId, userId).changes > 0;
  }

  async getRole(appId: AppId, userId: UserId): Promise<Role | null> {
    const row = this.#db.prepare('SELECT role FROM memberships WHERE app_id = ? AND user_id = ?').get(appId, userId) as
      | { role: string }
      | undefined;
    return row ? (row.role as Role) : null;
  }

  async upsertBuild(b: BuildRecord): Promise<Upserted<BuildRecord>> {
    const now = Date.now();
    const tx = this.#db.transaction((): Upserted<BuildRecord> => {
      const existing = this.#db.prepare('SELECT closes_at FROM builds WHERE id = ?').get(b.id) as { closes_at: number | null } | undefined;
      const closesAt = earlierCloseTime(existing?.closes_at ?? null, b.closesAt?.getTime() ?? null);
      const values = [
        b.appId, b.stack, b.status, b.startedAt.getTime(), b.finishedAt?.getTime() ?? null, b.triggeredBy, closesAt,
        b.ssh.host, b.ssh.port, b.ssh.username, b.ssh.sealedPassword, b.ssh.sealedPrivateKey, b.ssh.hostKey,
        b.vnc?.host ?? null, b.vnc?.port ?? null, b.vnc?.username ?? null, b.vnc?.sealedPassword ?? null,
        b.extensions?.stepMinutes ?? null, b.extensions?.maxMinutes ?? null,
      ];
      if (existing) {
        this.#db
          .prepare(
            `UPDATE builds SET app_id = ?, stack = ?, status = ?, started_at = ?, finished_at = ?, triggered_by = ?, closes_at = ?,
               ssh_host = ?, ssh_port = ?, ssh_username = ?, ssh_password_sealed = ?, ssh_private_key_sealed = ?, ssh_host_key = ?,
               vnc_host = ?, vnc_port = ?, vnc_username = ?, vnc_password_sealed = ?,
               extension_step_minutes = ?, extension_max_minutes = ?, updated_at = ?,
               ssh_pinned_host_key = CASE WHEN ssh_host = ? AND ssh_port = ? THEN ssh_pinned_host_key END
             WHERE id = ?`,
          )
          // A pin belongs to the machine it was taken from: another host or port is another VM.
          .run(...values, now, b.ssh.host, b.ssh.port, b.id);
      } else {
        this.#db
          .prepare(
            `INSERT INTO builds (app_id, stack, status, started_at, finished_at, triggered_by, closes_at,
               ssh_host, ssh_port, ssh_username, ssh_password_sealed, ssh_private_key_sealed, ssh_host_key,
               vnc_host, vnc_port, vnc_username, vnc_password_sealed, extension_step_minutes, extension_max_minutes, created_at, updated_at, id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(...values, now, now, b.id);
      }
      return { record: this.#readBuild(b.id) as BuildRecord, created: !existing };
    });
    return tx();
  }

  async getBuild(id: BuildId): Promise<BuildRecord | null> {
    return this.#readBuild(id);
  }

  async listBuildsForUser(userId: UserId): Promise<readonly BuildListing[]> {
    const rows = this.#db
      .prepare(
        `SELECT b.*, a.name AS app_name, m.role AS role FROM builds b
           JOIN memberships m ON m.app_id = b.app_id AND m.user_id = ?
           JOIN apps a ON a.id = b.app_id
         ORDER BY b.started_at DESC, b.id`,
      )
      .all(userId) as (BuildRow<EpochMs> & { app_name: string; role: string })[];
    return rows.map((row) => ({ build: toBuild(row), appName: row.app_name, role: row.role as Role }));
  }

  async finishBuild(id: BuildId, finishedAt: Date, closesAt: Date): Promise<BuildRecord | null> {
    const info = this.#db
      .prepare(
        `UPDATE builds SET
           status = CASE WHEN status = 'running' THEN 'finished' ELSE status END,
           finished_at = MIN(COALESCE(finished_at, @finishedAt), @finishedAt),
           closes_at = ${earlierCloseTimeSql('closes_at', '@closesAt')},
           updated_at = @updatedAt
         WHERE id = @id`,
      )
      .run({ finishedAt: finishedAt.getTime(), closesAt: closesAt.getTime(), updatedAt: Date.now(), id });
    return info.changes > 0 ? this.#readBuild(id) : null;
  }

  async pinHostKey(id: BuildId, fingerprint: string): Promise<string | null> {
    this.#db.prepare('UPDATE builds SET ssh_pinned_host_key = ? WHERE id = ? AND ssh_pinned_host_key IS NULL').run(fingerprint, id);
    const row = this.#db.prepare('SELECT ssh_pinned_host_key FROM builds WHERE id = ?').get(id) as { ssh_pinned_host_key: string | null } | undefined;
    return row ? row.ssh_pinned_host_key : null;
  }

  async extendWindow(id: BuildId, from: Date, to: Date, outbox?: OutboxWrite): Promise<BuildRecord | null> {
    return this.#changeBuild(id, outbox, () =>
      this.#db
        .prepare('UPDATE builds SET closes_at = @to, extended_ms = extended_ms + (@to - @from), updated_at = @updatedAt WHERE id = @id AND closes_at = @from')
        .run({ from: from.getTime(), to: to.getTime(), updatedAt: Date.now(), id }).changes,
    );
  }

  async narrowWindow(id: BuildId, at: Date, outbox?: OutboxWrite): Promise<BuildRecord | null> {
    return this.#changeBuild(id, outbox, () =>
      this.#db
        .prepare(`UPDATE builds SET closes_at = ${earlierCloseTimeSql('closes_at', '@at')}, updated_at = @updatedAt WHERE id = @id`)
        .run({ at: at.getTime(), updatedAt: Date.now(), id }).changes,
    );
  }

  async getSession(sid: string): Promise<SessionRow | null> {
    const row = this.#db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE sid = ?`).get(sid) as SessionTableRow<EpochMs> | undefined;
    return row ? toSession(row) : null;
  }

  async setSession(sid: string, row: SessionRow): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO sessions (sid, data, expires_at, user_id, sign_in_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, user_id = excluded.user_id, sign_in_id = excluded.sign_in_id`,
      )
      .run(sid, row.data, row.expiresAt.getTime(), row.userId, row.signInId, Date.now());
  }

  async isSignInLive(signInId: string, userId: UserId, now: Date): Promise<boolean> {
    return this.#db.prepare('SELECT 1 FROM sessions WHERE sign_in_id = ? AND user_id = ? AND expires_at > ?').get(signInId, userId, now.getTime()) !== undefined;
  }

  async trimUserSessions(userId: UserId, keep: number): Promise<readonly string[]> {
    const rows = this.#db
      .prepare(
        `DELETE FROM sessions WHERE user_id = ? AND sid NOT IN (
           SELECT sid FROM sessions WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?
         ) RETURNING sign_in_id`,
      )
      .all(userId, userId, keep) as { sign_in_id: string }[];
    return rows.map((r) => r.sign_in_id);
  }

  async destroyUserSessions(userId: UserId): Promise<number> {
    return this.#db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes;
  }

  async touchSession(sid: string, expiresAt: Date): Promise<void> {
    this.#db.prepare('UPDATE sessions SET expires_at = ? WHERE sid = ?').run(expiresAt.getTime(), sid);
  }

  async destroySession(sid: string): Promise<void> {
    this.#db.prepare('DELETE FROM sessions WHERE sid = ?').run(sid);
  }

  async pruneSessions(now: Date): Promise<number> {
    return this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now.getTime()).changes;
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    // One commit for the lot: a window closing on hundreds of connections writes hundreds of rows.
    this.#appendAuditRows(entries);
  }



  async pruneAudit(cutoff: Date): Promise<number> {
    const batch = this.#db.prepare('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)');
    let deleted = 0;
    for (;;) {
      const { changes } = batch.run(cutoff.getTime(), AUDIT_PRUNE_BATCH_ROWS);
      deleted += changes;
      if (changes < AUDIT_PRUNE_BATCH_ROWS) return deleted;
      // Other requests run between batches: a trail grown large before retention existed is no stall.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async listAudit(query: AuditQuery): Promise<readonly AuditRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.buildId !== undefined) {
      where.push('build_id = ?');
      params.push(query.buildId);
    }
    if (query.userId !== undefined) {
      where.push('user_id = ?');
      params.push(query.userId);
    }
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(query.since.getTime());
    }
    if (query.beforeId !== undefined) {
      where.push('id < ?');
      params.push(query.beforeId);
    }
    const rows = this.#db
      .prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
      .all(...params, query.limit) as AuditRow<EpochMs>[];
    return rows.map(toAudit);
  }

  async addRecording(r: Omit<RecordingRecord, 'endedAt' | 'sizeBytes' | 'droppedBytes'>): Promise<void> {
    this.#db
      .prepare('INSERT INTO recordings (id, build_id, app_id, user_id, connection_id, started_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.id, r.buildId, r.appId, r.userId, r.connectionId, r.startedAt.getTime());
  }

  async finishRecording(id: RecordingId, endedAt: Date, sizeBytes: number, droppedBytes: number): Promise<void> {
    this.#db
      .prepare('UPDATE recordings SET ended_at = ?, size_bytes = ?, dropped_bytes = ? WHERE id = ?')
      .run(endedAt.getTime(), sizeBytes, droppedBytes, id);
  }

  async getRecording(id: RecordingId): Promise<RecordingRecord | null> {
    const row = this.#db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as RecordingRow<EpochMs> | undefined;
    return row ? toRecording(row) : null;
  }

  async listRecordings(buildId: BuildId): Promise<readonly RecordingRecord[]> {
    const rows = this.#db.prepare('SELECT * FROM recordings WHERE build_id = ? ORDER BY started_at DESC, id').all(buildId) as RecordingRow<EpochMs>[];
    return rows.map(toRecording);
  }

  async pruneRecordings(cutoff: Date): Promise<readonly RecordingRecord[]> {
    const rows = this.#db.prepare('DELETE FROM recordings WHERE started_at < ? RETURNING *').all(cutoff.getTime()) as RecordingRow<EpochMs>[];
    return rows.map(toRecording);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #readApp(id: string): AppRecord | null {
    const row = this.#db.prepare(`SELECT ${APP_COLUMNS} FROM apps WHERE id = ?`).get(id) as AppRow | undefined;
    return row ? toApp(row) : null;
  }

  /** One build's update and, when it changed a row, its events: one transaction, so both or neither. */
  #changeBuild(id: BuildId, outbox: OutboxWrite | undefined, update: () => number): BuildRecord | null {
    const tx = this.#db.transaction((): BuildRecord | null => {
      if (update() === 0) return null;
      const changed = this.#readBuild(id) as BuildRecord;
      if (outbox) writeOutboxRowsSqlite(this.#db, outbox.events(changed), outbox.endpoints, outbox.now);
      return changed;
    });
    return tx();
  }

  #readBuild(id: string): BuildRecord | null {
    const row = this.#db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as BuildRow<EpochMs> | undefined;
    return row ? toBuild(row) : null;
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
  }
}
