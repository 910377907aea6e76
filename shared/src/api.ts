/** JSON shapes of the HTTP API, shared by server, browser code and tests. */
import type { AppId, BuildId, UserId } from './ids.js';
import type { BuildStatus, Role, Stack } from './roles.js';

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
}

/** One live terminal or screen connection, on whichever node holds it (`GET /api/v1/builds/{buildId}/sessions`). */
export interface LiveSessionView {
  /** The gateway node holding the connection (PORTHOLE_NODE_ID). */
  readonly node: string;
  /** Unique on its node. */
  readonly connectionId: string;
  readonly userId: UserId;
  readonly kind: 'ssh' | 'vnc';
  readonly openedAt: string;
  /** Relayed so far; with several nodes, as of the node's last heartbeat (every 5 s). */
  readonly bytesToBrowser: number;
  readonly bytesFromBrowser: number;
}

export interface LiveSessionsView {
  readonly sessions: readonly LiveSessionView[];
}
