/** JSON shapes of the HTTP API, shared by server, browser code and tests. */
import type { AppId, BuildId, UserId } from './ids.js';
import type { BuildStatus, Role, Stack } from './roles.js';
import type { ConnectionKind } from './protocol/kinds.js';

export interface AccessWindowView {
  /** ISO-8601; access opens when the build starts. */
  readonly opensAt: string;
  /** ISO-8601, or null while the build is running (open-ended). */
  readonly closesAt: string | null;
}

export interface BuildView {
  readonly id: BuildId;
  readonly appId: AppId;
  readonly stack: Stack;
  readonly status: BuildStatus;
  readonly window: AccessWindowView;
  /** What users may add to the window (docs/api.md, "Extend and release"); null: no extensions. */
  readonly extensions: ExtensionsView | null;
}

export interface ExtensionsView {
  readonly stepMinutes: number;
  readonly maxMinutes: number;
}

export interface UserView {
  readonly id: UserId;
  readonly email: string;
  readonly name: string | null;
  readonly hasPassword: boolean;
  /** The OpenID Connect subject this user signs in with, if registered. */
  readonly oidcSubject: string | null;
}

export interface AppView {
  readonly id: AppId;
  readonly name: string;
  /** Terminal sessions on this app's builds are recorded. */
  readonly recordSessions: boolean;
}

export interface MembershipView {
  readonly appId: AppId;
  readonly userId: UserId;
  readonly role: Role;
}

/** Answer of the audited Reveal call: what a native ssh / VNC client needs. */
export interface NativeCredentialsView {
  readonly ssh: { readonly username: string; readonly password: string | null; readonly hasPrivateKey: boolean };
  readonly vnc: { readonly username: string | null; readonly password: string } | null;
}

/** Answer of `POST /api/v1/builds/{buildId}/connections`. */
export interface ConnectionTicketView {
  /** Single use, valid until expiresAt; sent only in Sec-WebSocket-Protocol. */
  readonly ticket: string;
  /** ws(s):// URL of the WebSocket endpoint for this kind. */
  readonly url: string;
  /** The data subprotocol to offer beside the ticket. */
  readonly protocol: string;
  readonly expiresAt: string;
}

/** Answer of `GET /api/v1/builds/{buildId}/window`. */
export interface WindowView {
  readonly closesAt: string | null;
  /** Computed by the server when answering; pages count down from it, not from their own clock. */
  readonly remainingMs: number | null;
  readonly open: boolean;
  /** Minutes one Extend adds; null when this build cannot be extended (no policy, or at its cap). */
  readonly extendStepMinutes: number | null;
  /** True when an Extend would succeed now: the close time is known and within the last step. */
  readonly canExtend: boolean;
}

/** One row of `GET /api/v1/audit`. */
export interface AuditEventView {
  readonly id: number;
  readonly at: string;
  readonly event: string;
  readonly userId: string | null;
  readonly buildId: string | null;
  /** Event-specific fields (docs/operations.md); never a secret or terminal content. */
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditPageView {
  readonly events: readonly AuditEventView[];
  /** Pass as `before` for the next (older) page; null when this page is the last. */
  readonly next: number | null;
}

/** One attempt in `GET /api/v1/webhook-deliveries` (docs/api.md). */
export interface WebhookDeliveryView {
  readonly at: string;
  /** The event's id, also its `webhook-id` header. */
  readonly eventId: string;
  readonly endpoint: string;
  readonly type: string;
  readonly buildId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** delivered; failed (retried later); gave_up (24 hours of failures). */
  readonly outcome: 'delivered' | 'failed' | 'gave_up';
  /** The receiver's HTTP status; null when it did not answer. */
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export interface WebhookDeliveriesView {
  /** False when PORTHOLE_WEBHOOK_URL is not set. */
  readonly enabled: boolean;
  /** Deliveries still to come, on every node: events not yet delivered or given up, per endpoint. */
  readonly pending: number;
  /** Newest first. */
  readonly deliveries: readonly WebhookDeliveryView[];
}

/** One entry of `GET /api/v1/builds/{buildId}/recordings`. */
export interface RecordingView {
  readonly id: string;
  readonly userId: string;
  /** The user's name or email, when the user still exists. */
  readonly userName: string | null;
  readonly startedAt: string;
  /** null while the session runs, or when the gateway stopped before finishing the file. */
  readonly endedAt: string | null;
  readonly sizeBytes: number;
  /** Output missing from the file because the disk did not keep up. */
  readonly droppedBytes: number;
  /** Same-origin URL of the asciicast v2 file. */
  readonly url: string;
  /** Same-origin URL of the replay page. */
  readonly replayUrl: string;
}

/** One live terminal or screen connection, on whichever node holds it (`GET /api/v1/builds/{buildId}/sessions`). */
export interface LiveSessionView {
  /** The gateway node holding the connection (PORTHOLE_NODE_ID). */
  readonly node: string;
  /** Unique on its node. */
  readonly connectionId: string;
  readonly userId: UserId;
  readonly kind: ConnectionKind;
  readonly openedAt: string;
  /** Relayed so far; with several nodes, as of the node's last heartbeat (every 5 s). */
  readonly bytesToBrowser: number;
  readonly bytesFromBrowser: number;
}

export interface LiveSessionsView {
  readonly sessions: readonly LiveSessionView[];
}

/**
 * One person watching a live session, as `GET /api/v1/builds/{buildId}/live-sessions` names them.
 * Every member who may use remote access on the build sees the names and modes: the terminal's
 * `participants` message already tells them to everyone attached, and any such member may attach.
 */
export interface SessionWatcherView {
  readonly userId: UserId;
  /** The user's name, else their email (as the `participants` message names them). */
  readonly name: string;
  /** 'drive': the owner lets this watcher type; 'watch': view only. */
  readonly mode: 'drive' | 'watch';
  /** The signed-in user is this watcher: how a watching screen page learns it may type (RFB cannot say). */
  readonly you: boolean;
}

/**
 * One live session of a build, for its members' build page (issue #16, docs/api.md "Live
 * sessions"). Unlike the control API's `LiveSessionView` (one row per connection, for operators),
 * this is one entry per session a member can watch, with its owner and watchers.
 */
export interface MemberSessionView {
  /** What a watch ticket names (`POST …/connections {kind, sessionId, mode:"watch"}`); never a secret. */
  readonly sessionId: string;
  readonly kind: ConnectionKind;
  readonly owner: { readonly userId: UserId; readonly name: string };
  /** The signed-in user owns it: only they may hand out control and remove watchers. */
  readonly yours: boolean;
  readonly startedAt: string;
  /** 'held': its page dropped and the gateway keeps it for a resume (PORTHOLE_RESUME_SECONDS). */
  readonly state: 'attached' | 'held';
  /** One entry per user, even when they watch from several pages. */
  readonly watchers: readonly SessionWatcherView[];
}

export interface MemberSessionsView {
  /** Oldest first. */
  readonly sessions: readonly MemberSessionView[];
}

/** Body of `PUT /api/v1/builds/{buildId}/live-sessions/{sessionId}/watchers/{userId}`. */
export interface WatcherModeBody {
  readonly mode: 'drive' | 'watch';
}

/** What a folder entry is (issue #17); a symlink is reported as itself, not followed. */
export type FileEntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of `GET /api/v1/builds/{buildId}/files`. */
export interface FileEntryView {
  /** The name as text: invalid UTF-8 bytes are replaced (U+FFFD); may hold any other character, newlines included. */
  readonly name: string;
  readonly type: FileEntryType;
  /** Bytes; null when the VM did not say. */
  readonly size: number | null;
  /** ISO 8601; null when the VM did not say. */
  readonly modifiedAt: string | null;
  /** Permission bits (mode & 0o7777) as a number, e.g. 420 for 0644; null when the VM did not say. */
  readonly mode: number | null;
}

/** `GET /api/v1/builds/{buildId}/files?path=P[&cursor=C]`. */
export interface FileListingView {
  /** The folder listed, absolute and resolved by the VM (symlinks followed). */
  readonly path: string;
  /** At most 1000, in the VM's order. */
  readonly entries: readonly FileEntryView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** `201` answer of `PUT /api/v1/builds/{buildId}/files/content?path=P`. */
export interface FileUploadView {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}
