/**
 * The persistence interface. Async so a networked database can implement it; the embedded SQLite
 * implementation lives in ./sqlite. VM secrets pass through here only in sealed form (see
 * ../crypto/secret-box.ts): the store never sees a plaintext password or key.
 */
import type { AppId, BuildId, RecordingId, UserId } from '../../../shared/src/ids.js';
import type { BuildStatus, Role, Stack } from '../../../shared/src/roles.js';
import type { OutboxWrite } from '../webhooks/outbox.js';

/** Audit rows deleted per statement when pruning: each batch is quick, so a huge backlog never stalls the gateway or outlasts a statement timeout. */
export const AUDIT_PRUNE_BATCH_ROWS = 10_000;

export interface UserRecord {
  readonly id: UserId;
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string | null;
  /** The `sub` claim this user signs in with through OpenID Connect, when registered. */
  readonly oidcSubject: string | null;
  /** Sign-in sessions and bearer tokens carry this; a new value ends them all (./session-epoch.ts). */
  readonly sessionEpoch: string;
}

export interface AppRecord {
  readonly id: AppId;
  readonly name: string;
  /** Terminal sessions on this app's builds are recorded (asciicast files). */
  readonly recordSessions: boolean;
}

export type AppUpsert = Omit<AppRecord, 'recordSessions'> & {
  /** undefined keeps the current setting (off for a new app). */
  readonly recordSessions?: boolean;
};

export interface MembershipRecord {
  readonly appId: AppId;
  readonly userId: UserId;
  readonly role: Role;
}

export interface SshEndpointRecord {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly sealedPassword: string | null;
  readonly sealedPrivateKey: string | null;
  /** "SHA256:<base64>" fingerprint registered by the orchestrator, if known. */
  readonly hostKey: string | null;
  /** Fingerprint pinned by the gateway the first time it reached this VM (when none was registered). */
  readonly pinnedHostKey: string | null;
}

export interface VncEndpointRecord {
  readonly host: string;
  readonly port: number;
  readonly username: string | null;
  readonly sealedPassword: string;
}

export interface BuildRecord {
  readonly id: BuildId;
  readonly appId: AppId;
  readonly stack: Stack;
  readonly status: BuildStatus;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly triggeredBy: string | null;
  /** Close time of the access window; null while open-ended. Only ever moves earlier, except by extendWindow. */
  readonly closesAt: Date | null;
  readonly ssh: SshEndpointRecord;
  readonly vnc: VncEndpointRecord | null;
  /** The orchestrator's extension policy (../access/extension.ts); null: none. */
  readonly extensions: { readonly stepMinutes: number; readonly maxMinutes: number } | null;
  /**
   * How much later than the orchestrator's own close time users have extended it, in ms: added to
   * every close time a finish proposes, so a replayed finish does not take back an extension.
   * Written only by extendWindow; upserts leave it alone.
   */
  readonly extendedMs: number;
}

/** A build as listed for a user: joined with its app and the user's role there. */
export interface BuildListing {
  readonly build: BuildRecord;
  readonly appName: string;
  readonly role: Role;
}

export interface Upserted<T> {
  readonly record: T;
  readonly created: boolean;
}

export interface SessionRow {
  readonly data: string;
  readonly expiresAt: Date;
  /** The signed-in user; null before sign-in. */
  readonly userId: UserId | null;
  /** A digest of the session id (../auth/sign-in-id.ts): tickets and live connections name their session by it. */
  readonly signInId: string;
}

export type UserUpsert = Omit<UserRecord, 'passwordHash' | 'oidcSubject' | 'sessionEpoch'> & {
  /** undefined keeps the current hash; null removes password login. */
  readonly passwordHash?: string | null;
  /** undefined keeps the current subject; null removes it. */
  readonly oidcSubject?: string | null;
  /** undefined keeps the current epoch (a new user gets a fresh one); a new value ends their sessions. */
  readonly sessionEpoch?: string;
};

/** One row of the audit trail. `details` never holds a secret or terminal content. */
export interface AuditEntry {
  readonly at: Date;
  readonly event: string;
  readonly userId: UserId | null;
  readonly buildId: BuildId | null;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditRecord extends AuditEntry {
  /** Increases with every row; newest first means highest first. */
  readonly id: number;
}

export interface AuditQuery {
  readonly buildId?: BuildId;
  readonly userId?: UserId;
  /** Only rows at or after this time. */
  readonly since?: Date;
  /** Only rows older than this id (paging through a long trail). */
  readonly beforeId?: number;
  readonly limit: number;
}

export interface RecordingRecord {
  readonly id: RecordingId;
  readonly buildId: BuildId;
  /**
   * The app the build belonged to when the recording started; only its members may read it, even
   * after the build moves to another app.
   */
  readonly appId: AppId;
  readonly userId: UserId;
  /** The connection id in the audit trail and logs. */
  readonly connectionId: string;
  readonly startedAt: Date;
  /** null while the session runs (or when the gateway stopped without finishing it). */
  readonly endedAt: Date | null;
  readonly sizeBytes: number;
  /** Output left out because the disk did not keep up (see recording/asciicast-writer.ts). */
  readonly droppedBytes: number;
}

export interface Store {
  upsertUser(user: UserUpsert): Promise<Upserted<UserRecord>>;
  getUser(id: UserId): Promise<UserRecord | null>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  getUserByOidcSubject(subject: string): Promise<UserRecord | null>;
  /** Deletes the user, their memberships and their sign-in sessions; false when there was no such user. */
  deleteUser(id: UserId): Promise<boolean>;

  upsertApp(app: AppUpsert): Promise<Upserted<AppRecord>>;
  getApp(id: AppId): Promise<AppRecord | null>;

  putMembership(membership: MembershipRecord): Promise<Upserted<MembershipRecord>>;
  /** Returns false when there was no such membership. */
  deleteMembership(appId: AppId, userId: UserId): Promise<boolean>;
  getRole(appId: AppId, userId: UserId): Promise<Role | null>;

  /** Writes a build. `closesAt` in the record is narrowed against the stored one, never widened. */
  upsertBuild(build: BuildRecord): Promise<Upserted<BuildRecord>>;
  getBuild(id: BuildId): Promise<BuildRecord | null>;
  /** Builds of every app the user is a member of, newest first. */
  listBuildsForUser(userId: UserId): Promise<readonly BuildListing[]>;
  /** Marks a build finished and narrows its window; null when the build is unknown. */
  finishBuild(id: BuildId, finishedAt: Date, closesAt: Date): Promise<BuildRecord | null>;
  /**
   * Pins the VM host key of a build unless one is pinned already; returns the fingerprint pinned
   * now (the first writer wins), or null when the build is unknown.
   */
  pinHostKey(id: BuildId, fingerprint: string): Promise<string | null>;
  /**
   * Narrows the window to `at`; null when the build is unknown. With `outbox`, its events are
   * written in the same transaction (a release and its build.released commit or fail together).
   */
  narrowWindow(id: BuildId, at: Date, outbox?: OutboxWrite): Promise<BuildRecord | null>;
  /**
   * The one widening of a window (../access/extension.ts decided it): moves the close time from
   * `from` to `to` only if it still is `from`, so a revoke, release or second click racing with
   * this one wins or loses whole. Null when the build is unknown or its close time changed (and
   * then no event is written). With `outbox`, as narrowWindow.
   */
  extendWindow(id: BuildId, from: Date, to: Date, outbox?: OutboxWrite): Promise<BuildRecord | null>;

  getSession(sid: string): Promise<SessionRow | null>;
  /** Writes a session; the time it was first written is kept (it orders a user's sessions). */
  setSession(sid: string, row: SessionRow): Promise<void>;
  touchSession(sid: string, expiresAt: Date): Promise<void>;
  destroySession(sid: string): Promise<void>;
  pruneSessions(now: Date): Promise<number>;
  /** Whether the sign-in session with this id is still there, signed in as `userId`, and unexpired. */
  isSignInLive(signInId: string, userId: UserId, now: Date): Promise<boolean>;
  /** Keeps the user's `keep` newest sessions and deletes the others; returns the sign-in ids deleted. */
  trimUserSessions(userId: UserId, keep: number): Promise<readonly string[]>;
  /** Deletes every session of the user; returns how many. */
  destroyUserSessions(userId: UserId): Promise<number>;

  /** Writes the rows together (one transaction): the audit trail hands over what one event-loop turn recorded. */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Deletes the rows from before `cutoff` (the retention period); returns how many. */
  pruneAudit(cutoff: Date): Promise<number>;
  /** Newest first. */
  listAudit(query: AuditQuery): Promise<readonly AuditRecord[]>;

  addRecording(recording: Omit<RecordingRecord, 'endedAt' | 'sizeBytes' | 'droppedBytes'>): Promise<void>;
  finishRecording(id: RecordingId, endedAt: Date, sizeBytes: number, droppedBytes: number): Promise<void>;
  getRecording(id: RecordingId): Promise<RecordingRecord | null>;
  /** A build's recordings, newest first. */
  listRecordings(buildId: BuildId): Promise<readonly RecordingRecord[]>;
  /** Deletes the rows of recordings started before `cutoff` and returns them, so their files can go too. */
  pruneRecordings(cutoff: Date): Promise<readonly RecordingRecord[]>;

  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;

  close(): Promise<void>;
}
