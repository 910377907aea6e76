/**
 * Everything the gateway tells its operators about: who signed in, who was given or refused a
 * connection, what each connection did (in bytes, never in content), and when access ended. One
 * event type feeds the audit trail, the logs and the metrics, so the three never disagree.
 *
 * Fields are identifiers, counts, codes and reasons chosen by the gateway (a browser's close code
 * only as `browserCloseCode`). Never a password, key,
 * ticket, cookie or terminal output: the audit API hands these rows to whoever holds the control
 * token.
 */
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import type { ClosedBy } from '../protocols/close-attribution.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';

/** Why a ticket was not given (mint) or not honoured (redeem, at the WebSocket upgrade). */
export type TicketRefusalReason =
  | 'not_found'
  | 'role_forbidden'
  | 'window_closed'
  | 'kind_unavailable'
  | 'forbidden_origin'
  | 'bad_subprotocol'
  | 'missing_ticket'
  | 'unknown_or_used'
  | 'expired'
  | 'wrong_connection'
  /** The user was deleted, their sign-in changed, or the browser that minted the ticket signed out. */
  | 'signed_out'
  | 'access_ended'
  | 'draining'
  | 'too_many_connections'
  | 'too_many_tickets'
  | 'too_many_user_tickets'
  /** A resume named a session that is not (or no longer) held for this user, build and kind. */
  | 'session_not_found';

/** Why a session's page went while the session was kept: the network or the page left, or another page took it over. */
export type DetachReason = 'page_left' | 'resumed_elsewhere';

export type GatewayEvent =
  | { readonly type: 'login_succeeded'; readonly userId: UserId }
  | {
      readonly type: 'login_failed';
      readonly email: string;
      /** Where the attempt came from (the proxy's view with PORTHOLE_TRUST_PROXY). */
      readonly clientAddress: string | null;
    }
  | { readonly type: 'native_credentials_revealed'; readonly userId: UserId; readonly buildId: BuildId; readonly role: string }
  | { readonly type: 'ticket_minted'; readonly userId: UserId; readonly buildId: BuildId; readonly kind: ConnectionKind; readonly viewOnly: boolean }
  | {
      readonly type: 'ticket_refused';
      readonly stage: 'mint' | 'redeem';
      readonly reason: TicketRefusalReason;
      readonly userId: UserId | null;
      readonly buildId: BuildId | null;
      readonly kind: ConnectionKind | null;
      /** Where the attempt came from, when the refusal happened at the upgrade. */
      readonly clientAddress: string | null;
    }
  | {
      readonly type: 'connection_opened';
      readonly connectionId: string;
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      readonly viewOnly: boolean;
      readonly recorded: boolean;
    }
  | {
      readonly type: 'connection_closed';
      readonly connectionId: string;
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      /** A browser's close is filed under 1000/1001/1005/1006 with a fixed reason (ws/close-attribution.ts). */
      readonly closedBy: ClosedBy;
      readonly closeCode: number;
      readonly reason: string;
      /** The code the browser sent, kept apart from closeCode; null when the gateway closed. */
      readonly browserCloseCode: number | null;
      readonly bytesToBrowser: number;
      readonly bytesFromBrowser: number;
      /** Times reading from the VM paused for this slow browser. */
      readonly pauses: number;
      readonly durationMs: number;
    }
  | {
      readonly type: 'session_detached';
      readonly connectionId: string;
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      readonly reason: DetachReason;
      /** The browser's close code (1001, 1005, 1006), or 4007 when another page took over. */
      readonly closeCode: number;
      /** How long the session is held for a page to resume it. */
      readonly holdSeconds: number;
    }
  | {
      readonly type: 'session_resumed';
      readonly connectionId: string;
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      /** Output bytes the page said it had received, and the offset output went on from (see docs/protocol.md). */
      readonly requestedOffset: number;
      readonly offset: number;
      /** The node holding the session. */
      readonly node: string;
      /** The node the page reached, which relayed it to `node`; null when it reached `node` itself. */
      readonly via: string | null;
    }
  | {
      /** A member's page joined another member's session as a watcher (issue #16). */
      readonly type: 'watch_started' | 'watch_ended';
      /** The watcher's own connection. */
      readonly connectionId: string;
      /** The watcher. */
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      /** The session watched, and whose it is. */
      readonly sessionId: string;
      readonly ownerId: UserId;
    }
  | {
      /** The session's owner let a watcher type, or took it back. */
      readonly type: 'control_granted' | 'control_revoked';
      /** The owner's session. */
      readonly connectionId: string;
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      readonly granteeId: string;
    }
  | {
      /** The session's owner removed a watcher: each of its pages closed with 4008. */
      readonly type: 'watcher_removed';
      /** The owner's session. */
      readonly connectionId: string;
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly kind: ConnectionKind;
      readonly watcherId: UserId;
    }
  | { readonly type: 'window_closed'; readonly buildId: BuildId; readonly connectionsEnded: number }
  /**
   * A user moved the build's close time later by one step (issue #20). Its webhook (build.extended)
   * is written with the change itself (../webhooks/window-changes.ts), not from here.
   */
  | { readonly type: 'build_extended'; readonly userId: UserId; readonly buildId: BuildId; readonly closesAt: string; readonly previousClosesAt: string }
  /** A user closed the build's window now ("I'm done — release the VM"); `reason` is the close reason connections got. */
  | { readonly type: 'build_released'; readonly userId: UserId; readonly buildId: BuildId; readonly reason: string }
  | {
      readonly type: 'access_revoked';
      readonly buildId: BuildId | null;
      readonly userId: UserId | null;
      readonly appId: AppId | null;
      readonly reason: string;
      readonly connectionsEnded: number;
    }
  | {
      /** A file of the VM sent to the browser (issue #17): the whole of it or, with `range`, part. */
      readonly type: 'file_downloaded';
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly path: string;
      readonly bytes: number;
      /** SHA-256 (hex) of the bytes sent. */
      readonly sha256: string | null;
      /** "start-end/size" of a Range answer; null for the whole file. */
      readonly range: string | null;
      /** False when the browser left, access ended or the VM failed before the last byte. */
      readonly complete: boolean;
    }
  | {
      readonly type: 'file_uploaded';
      readonly userId: UserId;
      readonly buildId: BuildId;
      readonly path: string;
      readonly bytes: number;
      readonly sha256: string;
      readonly overwrite: boolean;
    }
  | { readonly type: 'folder_downloaded'; readonly userId: UserId; readonly buildId: BuildId; readonly path: string; readonly bytes: number; readonly complete: boolean }
  | { readonly type: 'host_key_pinned'; readonly buildId: BuildId; readonly fingerprint: string }
  | { readonly type: 'host_key_mismatch'; readonly buildId: BuildId; readonly expected: string; readonly presented: string };

export type GatewayEventType = GatewayEvent['type'];

/** Where events go. Recording never throws and never waits: callers are on hot or failing paths. */
export interface EventSink {
  record(event: GatewayEvent): void;
}

/** For parts built without a sink (unit tests, tools). */
export const DISCARD_EVENTS: EventSink = { record: () => undefined };
