/**
 * The rows the SQLite and PostgreSQL stores read, and how each becomes a record: the schemas are
 * the same, only the drivers hand some values back differently. better-sqlite3 gives times as the
 * epoch milliseconds stored and flags as 0 or 1; pg gives TIMESTAMPTZ as a Date, BOOLEAN as a
 * boolean and BIGINT as a string (a JavaScript number could lose its precision). Rows are generic
 * over the time type, the one difference a mapper must be told about; flags and BIGINTs convert
 * the same way from either driver.
 */
import type { AppId, BuildId, RecordingId, UserId } from '../../../shared/src/ids.js';
import type { BuildStatus, Stack } from '../../../shared/src/roles.js';
import type { AppRecord, AuditRecord, BuildRecord, RecordingRecord, SessionRow, UserRecord } from './store.js';

/** A BIGINT column: a number from SQLite, a decimal string from pg. */
type BigIntValue = number | string;

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string | null;
  oidc_subject: string | null;
  session_epoch: string;
}

export const USER_COLUMNS = 'id, email, name, password_hash, oidc_subject, session_epoch';

export interface AppRow {
  id: string;
  name: string;
  record_sessions: boolean | number;
}

export const APP_COLUMNS = 'id, name, record_sessions';

export interface BuildRow<Time> {
  id: string;
  app_id: string;
  stack: string;
  status: string;
  started_at: Time;
  finished_at: Time | null;
  triggered_by: string | null;
  closes_at: Time | null;
  ssh_host: string;
  ssh_port: number;
  ssh_username: string;
  ssh_password_sealed: string | null;
  ssh_private_key_sealed: string | null;
  ssh_host_key: string | null;
  ssh_pinned_host_key: string | null;
  vnc_host: string | null;
  vnc_port: number | null;
  vnc_username: string | null;
  vnc_password_sealed: string | null;
  extension_step_minutes: number | null;
  extension_max_minutes: number | null;
  /** BIGINT in PostgreSQL, which node-postgres returns as a string. */
  extended_ms: number | string;
}

/** A row of the `sessions` table (store.ts's SessionRow is the record it becomes). */
export interface SessionTableRow<Time> {
  data: string;
  expires_at: Time;
  user_id: string | null;
  sign_in_id: string;
}

export const SESSION_COLUMNS = 'data, expires_at, user_id, sign_in_id';

export interface AuditRow<Time> {
  id: BigIntValue;
  at: Time;
  event: string;
  user_id: string | null;
  build_id: string | null;
  details: string;
}

export const AUDIT_COLUMNS = 'id, at, event, user_id, build_id, details';

export interface RecordingRow<Time> {
  id: string;
  build_id: string;
  app_id: string;
  user_id: string;
  connection_id: string;
  started_at: Time;
  ended_at: Time | null;
  size_bytes: BigIntValue;
  dropped_bytes: BigIntValue;
}

export function toUser(row: UserRow): UserRecord {
  return { id: row.id as UserId, email: row.email, name: row.name, passwordHash: row.password_hash, oidcSubject: row.oidc_subject, sessionEpoch: row.session_epoch };
}

export function toApp(row: AppRow): AppRecord {
  return { id: row.id as AppId, name: row.name, recordSessions: Boolean(row.record_sessions) };
}

/** The mappers of rows holding times, for a driver that returns its times as `Time`. */
export interface TimedRowMappers<Time> {
  readonly toBuild: (row: BuildRow<Time>) => BuildRecord;
  readonly toSession: (row: SessionTableRow<Time>) => SessionRow;
  readonly toAudit: (row: AuditRow<Time>) => AuditRecord;
  readonly toRecording: (row: RecordingRow<Time>) => RecordingRecord;
}

export function timedRowMappers<Time>(toDate: (time: Time) => Date): TimedRowMappers<Time> {
  const orNull = (time: Time | null): Date | null => (time === null ? null : toDate(time));
  return {
    toBuild: (row) => ({
      id: row.id as BuildId,
      appId: row.app_id as AppId,
      stack: row.stack as Stack,
      status: row.status as BuildStatus,
      startedAt: toDate(row.started_at),
      finishedAt: orNull(row.finished_at),
      triggeredBy: row.triggered_by,
      closesAt: orNull(row.closes_at),
      ssh: {
        host: row.ssh_host,
        port: row.ssh_port,
        username: row.ssh_username,
        sealedPassword: row.ssh_password_sealed,
        sealedPrivateKey: row.ssh_private_key_sealed,
        hostKey: row.ssh_host_key,
        pinnedHostKey: row.ssh_pinned_host_key,
      },
      vnc:
        row.vnc_host !== null && row.vnc_port !== null && row.vnc_password_sealed !== null
          ? { host: row.vnc_host, port: row.vnc_port, username: row.vnc_username, sealedPassword: row.vnc_password_sealed }
          : null,
      extensions:
        row.extension_step_minutes !== null && row.extension_max_minutes !== null
          ? { stepMinutes: row.extension_step_minutes, maxMinutes: row.extension_max_minutes }
          : null,
      extendedMs: Number(row.extended_ms),
    }),
    toSession: (row) => ({ data: row.data, expiresAt: toDate(row.expires_at), userId: row.user_id as UserId | null, signInId: row.sign_in_id }),
    toAudit: (row) => ({
      id: Number(row.id),
      at: toDate(row.at),
      event: row.event,
      userId: row.user_id as UserId | null,
      buildId: row.build_id as BuildId | null,
      details: JSON.parse(row.details) as AuditRecord['details'],
    }),
    toRecording: (row) => ({
      id: row.id as RecordingId,
      buildId: row.build_id as BuildId,
      appId: row.app_id as AppId,
      userId: row.user_id as UserId,
      connectionId: row.connection_id,
      startedAt: toDate(row.started_at),
      endedAt: orNull(row.ended_at),
      sizeBytes: Number(row.size_bytes),
      droppedBytes: Number(row.dropped_bytes),
    }),
  };
}
