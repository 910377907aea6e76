/**
 * What a protocol adapter is, as Guacamole has one contract for every protocol: the connection's
 * owner (../sessions/live-connection.ts) owns the lifecycle — admission, the quota slot, the live
 * registration, the audit rows, the recording, the one door out — and a protocol fills in how its
 * bytes move. Each protocol folder has the same skeleton:
 *
 *   <kind>/protocol.ts  the adapter below: capabilities and how to open a session
 *   <kind>/upstream.ts  the gateway as a client of the VM: dial, authenticate, Result on failure
 *   <kind>/bridge.ts    one browser WebSocket joined to one upstream, with flow control
 *
 * plus helpers of its own. Adding a kind means a folder like that, an entry in
 * shared/src/protocol/kinds.ts and one in the registry (../gateway.ts); the compiler finds the rest.
 */
import type { WebSocket } from 'ws';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { AttachMode } from '../../../shared/src/protocol/ssh-v1.js';
import type { VmSecretField } from '../domain/vm-secrets.js';
import type { Logger } from '../log.js';
import type { BuildRecord } from '../store/store.js';
import type { Dialer, DialTarget } from './dialer.js';
import type { ReadGate } from './frames.js';
import type { SessionObserver } from './session-observer.js';

/** What every upstream opener (`<kind>/upstream.ts`) is given; it answers with a `Result`. */
export interface UpstreamOptions {
  /** From the store, never from the browser. */
  readonly target: DialTarget;
  readonly dialer: Dialer;
  /** Aborted when the connection ends before the upstream is open; the opener then answers 'aborted'. */
  readonly signal: AbortSignal;
}

/** A page's socket joined to a session. */
export interface Attachment {
  readonly ws: WebSocket;
  /** Stops parsing the browser's frames once it is closed for breaking a rule. */
  readonly readGate: ReadGate;
}

/** Bytes a session relayed: to the browser as actually sent, from the browser as received. */
export interface RelayedBytes {
  readonly toBrowser: number;
  readonly fromBrowser: number;
}

/** Who a page attached to a session is, as the other pages attached to it are told. */
export interface Person {
  readonly userId: string;
  readonly name: string;
}

/** A watcher's hold on another member's session (issue #16), for the watcher's own connection owner. */
export interface WatcherHandle {
  relayed(): RelayedBytes;
  /** The watcher's page left (or its connection ended); idempotent. */
  leave(): void;
}

/** Everything a protocol session gets from its owner. */
export interface ProtocolContext {
  readonly ws: WebSocket;
  /** Stops parsing the browser's frames once it is closed for breaking a rule. */
  readonly readGate: ReadGate;
  readonly build: BuildRecord;
  /** Names the session to the page, which resumes it by this id (never a secret: resuming needs a ticket). */
  readonly sessionId: string;
  /** Whose session it is, as other pages attached to it are told. */
  readonly person: Person;
  /** How long the session is held after its page drops, for protocols that can be resumed; 0: not held. */
  readonly resumeSeconds: number;
  /** The ticket asked for a session that never sends input (only where the adapter allows it). */
  readonly viewOnly: boolean;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Told about output, input, sizes, pauses and host keys (metrics, recording, audit). */
  readonly observer: SessionObserver;
  /** The session is being recorded (decided once it has started): its pages are told, so the user knows. */
  readonly recorded: () => boolean;
  /** A person's input (keys, pointer, clipboard): the idle timeout restarts. */
  readonly onInput: () => void;
  /**
   * Ends the connection; the only way a session ends itself (the VM left, the browser broke a
   * rule). The owner files the end and calls the session's `stop` once.
   */
  readonly close: (code: number, reason: string) => void;
  /** Closes a page that failed to resume the session properly; the session stays held. */
  readonly rejectAttachment: (page: Attachment, code: number, reason: string) => void;
  /** A sealed VM secret of this build, opened at the last moment; throws when it cannot be. */
  readonly openSecret: (sealed: string | null, field: VmSecretField) => string | null;
}

export interface ProtocolSession {
  /** Opens the upstream and bridges it; resolves once set up or refused. */
  start(): Promise<void>;
  /**
   * Tears the upstream down and stops relaying; the owner has just sent the browser its close
   * frame. Called by the owner only, once; a session ending itself calls `context.close`.
   */
  stop(): void;
  relayed(): RelayedBytes;
  /**
   * Present when the protocol can carry window news to the page (the terminal's control
   * messages); pages of protocols without it poll GET /api/v1/builds/{id}/window instead.
   */
  windowChanged?(closesAt: Date | null): void;
  /**
   * Present when the session can outlive its page (resumeSeconds > 0): the page's socket went
   * without ending the session; the session keeps its upstream and what a page resuming needs.
   * False when it cannot be held (not set up yet: the page never learned its id).
   */
  detach?(): boolean;
  /** A page resuming a detached session; the protocol's own handshake decides from where. */
  attach?(page: Attachment): void;
  /**
   * Present when other members' pages can watch the session: one joins; null when the session
   * cannot take watchers now (not set up yet, or ending). `close` ends the watcher's connection.
   */
  watch?(page: Attachment, person: Person, close: (code: number, reason: string) => void): WatcherHandle | null;
  /**
   * Present with `watch`: the owner hands a watcher control ('drive') or takes it back ('watch').
   * False when no watcher of that user is on the session.
   */
  setWatcherMode?(userId: string, mode: AttachMode): boolean;
}

export interface ProtocolAdapter<K extends ConnectionKind = ConnectionKind> {
  readonly kind: K;
  /** Sessions may be opened view-only (the gateway drops the page's input). */
  readonly viewOnly: boolean;
  /** Its output is a terminal stream the recorder can write (asciicast). */
  readonly recordable: boolean;
  /** Why the build offers no connection of this kind (shown to the user), or null when it does. */
  unavailableOn(build: BuildRecord): string | null;
  open(context: ProtocolContext): ProtocolSession;
}

/** One adapter per kind; the compiler refuses a registry that lacks one. */
export type ProtocolRegistry = { readonly [K in ConnectionKind]: ProtocolAdapter<K> };
