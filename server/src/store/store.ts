/**
 * The persistence interface. Async so a networked database can implement it; the embedded SQLite
 * implementation lives in ./sqlite. VM secrets pass through here only in sealed form (see
 * ../crypto/secret-box.ts): the store never sees a plaintext password or key.
 */
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import type { BuildStatus, Role, Stack } from '../../../shared/src/roles.js';

export interface UserRecord {
  readonly id: UserId;
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string | null;
  /** The `sub` claim this user signs in with through OpenID Connect, when registered. */
  readonly oidcSubject: string | null;
}

export interface AppRecord {
  readonly id: AppId;
  readonly name: string;
}

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
  /** Close time of the access window; null while open-ended. Only ever moves earlier. */
  readonly closesAt: Date | null;
  readonly ssh: SshEndpointRecord;
  readonly vnc: VncEndpointRecord | null;
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
}

export type UserUpsert = Omit<UserRecord, 'passwordHash' | 'oidcSubject'> & {
  /** undefined keeps the current hash; null removes password login. */
  readonly passwordHash?: string | null;
  /** undefined keeps the current subject; null removes it. */
  readonly oidcSubject?: string | null;
};

export interface Store {
  upsertUser(user: UserUpsert): Promise<Upserted<UserRecord>>;
  getUser(id: UserId): Promise<UserRecord | null>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  getUserByOidcSubject(subject: string): Promise<UserRecord | null>;
  /** Deletes the user and their memberships; false when there was no such user. */
  deleteUser(id: UserId): Promise<boolean>;

  upsertApp(app: AppRecord): Promise<Upserted<AppRecord>>;
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
  /** Narrows the window to `at`; null when the build is unknown. */
  narrowWindow(id: BuildId, at: Date): Promise<BuildRecord | null>;

  getSession(sid: string): Promise<SessionRow | null>;
  setSession(sid: string, row: SessionRow): Promise<void>;
  touchSession(sid: string, expiresAt: Date): Promise<void>;
  destroySession(sid: string): Promise<void>;
  pruneSessions(now: Date): Promise<number>;

  close(): Promise<void>;
}
