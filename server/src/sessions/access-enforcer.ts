/**
 * The one lifecycle owner of every live terminal and screen connection. It ends connections the
 * moment access ends — the build's window closes or is revoked (4000), the user's role no longer
 * allows it, they left the app, the build moved to an app where they have no allowed role, they
 * were deleted, their sign-in changed or the browser that opened it signed out (4001), the user
 * stops typing (4002), or the build was re-registered with another VM endpoint (4005) — and tells
 * live terminals when their window changes.
 *
 * Deadlines are timers per build, not polling. A connection being set up registers a pending
 * claim *before* its final policy check, so a revocation racing with the set-up cancels it: no
 * connection can survive a revocation it raced with.
 */
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { REMOTE_ACCESS_ROLES, type Role } from '../../../shared/src/roles.js';
import type { EndpointFingerprints } from '../domain/vm-endpoint.js';
import type { Logger } from '../log.js';
import { DISCARD_EVENTS, type EventSink } from '../audit/events.js';
import { earlierCloseTime } from '../access/close-time.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { SessionPairing } from './session-directory.js';
import type { WindowWatchers } from './window-watchers.js';

/** What moved a window: the control API's PUT, finish and revoke, and a user's Extend or Release. */
export type WindowCause = 'finish' | 'revoke' | 'update' | 'extend' | 'release';

/** setTimeout overflows above 2^31−1 ms (24.8 days) and would fire at once; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Idle connections are found by one sweep for all of them, at this granularity. */
export const IDLE_SWEEP_INTERVAL_MS = 15_000;
/** The close reason (with 4001) of a connection whose browser signed out; pages show it. */
export const SIGNED_OUT_REASON = 'signed out';
export const SIGN_IN_CHANGED_REASON = 'sign-in changed';

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
  setInterval(callback: () => void, ms: number): NodeJS.Timeout;
  clearInterval(timer: NodeJS.Timeout): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (timer) => clearInterval(timer),
};

export interface ConnectionHandle {
  readonly id: number;
  readonly userId: UserId;
  readonly appId: AppId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  /** Fingerprint of the VM endpoint this connection dialled (../domain/vm-endpoint.ts). */
  readonly endpoint: string;
  readonly openedAt: Date;
  /** The sign-in session that opened it (../auth/sign-in-id.ts); null for embed pages. */
  readonly signInId: string | null;
  /** The user's session epoch when its ticket was minted. */
  readonly sessionEpoch: string;
  /** Its terminal output is being recorded under the app it opened in. */
  readonly recorded?: boolean;
  /** Set when a page may resume it (../sessions/session-directory.ts): other nodes find it by this. */
  readonly sessionId?: string;
  /** Ends the connection with a close code; idempotent. */
  end(code: number, reason: string): void;
  /** Pushes the new window to the browser, where the protocol can carry it. */
  windowChanged(closesAt: Date | null): void;
  /** Bytes relayed so far, for the live view. */
  bytes?(): { readonly toBrowser: number; readonly fromBrowser: number };
  /** With sessionId: who is on the session now, for the members' live-session list on every node. */
  pairing?(): SessionPairing;
}

/** Told when a connection becomes live and when it has ended (once each). */
export interface ConnectionLifecycleObserver {
  opened(connection: ConnectionHandle): void;
  closed(connection: ConnectionHandle): void;
  /** What `pairing()` answers changed (held, resumed, a watcher came, went or was let type). */
  changed?(connection: ConnectionHandle): void;
}

export interface PendingConnection {
  /** Set when access ended while the connection was being set up. */
  readonly cancelled: { readonly code: number; readonly reason: string } | null;
  /** Turns the pending claim into a live connection; ends it at once if it was cancelled. */
  activate(connection: Omit<ConnectionHandle, 'id'>, closesAt: Date | null): LiveRegistration;
  /** The set-up failed or was refused; forget the claim. */
  abandon(): void;
}

export interface LiveRegistration {
  readonly id: number;
  /** Input from the user: resets the idle timeout. */
  touch(): void;
  /** The connection ended (either side); stop tracking it. */
  release(): void;
  /** Its session's pairing changed: the cluster's live view is told now, not at its next heartbeat. */
  changed(): void;
}

interface Tracked {
  /** Replaced (with the new app id) when the build moves to another app. */
  handle: ConnectionHandle;
  lastActivity: number;
}

/** What a build registration announces: its app and the VM endpoints connections may keep. */
export interface BuildPlacement {
  readonly appId: AppId;
  readonly endpoints: EndpointFingerprints;
}

interface Pending {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly signInId: string | null;
  cancelled: { code: number; reason: string } | null;
  /** The earliest close time announced while this connection was being set up. */
  narrowedTo: Date | null;
  /**
   * An extend was announced while this connection was being set up: its store read may predate it,
   * so `narrowedTo` (the extended time, narrowed by anything after it) replaces that read.
   */
  extended: boolean;
  /** The latest registration announced while this connection was being set up. */
  placedAt: BuildPlacement | null;
}

/** Close reasons of a build change; docs/protocol.md lists them with their codes. */
export const BUILD_MOVED_REASON = 'build moved to another app';
export const VM_REPLACED_REASON = 'build VM replaced';
/** A recorded connection cannot follow its build to another app: its recording belongs to the old one. */
export const MOVED_WHILE_RECORDED_REASON = 'build moved to another app';
const ROLE_UNCONFIRMED_REASON = 'access could not be confirmed';

export interface AccessEnforcerDeps {
  readonly logger: Logger;
  readonly idleTimeoutMs: number;
  readonly clock?: Clock;
  /** The cluster's live-connection registry, when there is one. */
  readonly lifecycle?: ConnectionLifecycleObserver;
  /** Told when access ends: window closed, revoked, role changed, user removed. */
  readonly events?: EventSink;
  /**
   * The user's role on an app, for connections whose build moved to another app. Without it (or
   * when it fails) those connections end: access that cannot be confirmed is not kept.
   */
  readonly roleOf?: (appId: AppId, userId: UserId) => Promise<Role | null>;
  /** This node's window streams: told every change this enforcer hears, so pages follow at once. */
  readonly watchers?: WindowWatchers;
}

export class AccessEnforcer {
  readonly #live = new Map<number, Tracked>();
  readonly #pending = new Set<Pending>();
  readonly #deadlines = new Map<BuildId, { at: number; timer: NodeJS.Timeout }>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #events: EventSink;
  readonly #idleTimeoutMs: number;
  readonly #lifecycle: ConnectionLifecycleObserver | null;
  readonly #roleOf: ((appId: AppId, userId: UserId) => Promise<Role | null>) | null;
  readonly #watchers: WindowWatchers | null;
  readonly #sweeper: NodeJS.Timeout;
  #nextId = 1;

  constructor(deps: AccessEnforcerDeps) {
    this.#clock = deps.clock ?? systemClock;
    this.#logger = deps.logger;
    this.#events = deps.events ?? DISCARD_EVENTS;
    this.#idleTimeoutMs = deps.idleTimeoutMs;
    this.#lifecycle = deps.lifecycle ?? null;
    this.#roleOf = deps.roleOf ?? null;
    this.#watchers = deps.watchers ?? null;
    this.#sweeper = this.#clock.setInterval(() => this.#sweepIdle(), Math.min(IDLE_SWEEP_INTERVAL_MS, deps.idleTimeoutMs));
    this.#sweeper.unref?.();
  }

  get size(): number {
    return this.#live.size;
  }

  /** Claim a connection before the final policy check; see the class comment. */
  beginConnection(userId: UserId, buildId: BuildId, signInId: string | null): PendingConnection {
    const pending: Pending = { userId, buildId, signInId, cancelled: null, narrowedTo: null, extended: false, placedAt: null };
    this.#pending.add(pending);
    return {
      get cancelled() {
        return pending.cancelled;
      },
      activate: (connection, loadedClosesAt) => {
        this.#pending.delete(pending);
        // The store read may predate a finish that happened during set-up.
        // An older read after an extend would re-arm the build's deadline at the old, earlier time for everyone.
        const closesAt = pending.extended ? pending.narrowedTo : earlierCloseTime(loadedClosesAt, pending.narrowedTo);
        const handle: ConnectionHandle = { ...connection, id: this.#nextId++ };
        const tracked: Tracked = { handle, lastActivity: this.#clock.now() };
        this.#live.set(handle.id, tracked);
        this.#schedule(handle.buildId, closesAt);
        this.#lifecycle?.opened(handle);
        let released = false;
        const registration: LiveRegistration = {
          id: handle.id,
          touch: () => {
            tracked.lastActivity = this.#clock.now();
          },
          release: () => {
            this.#live.delete(handle.id);
            this.#unscheduleIfUnused(handle.buildId);
            if (!released) this.#lifecycle?.closed(handle);
            released = true;
          },
          changed: () => {
            if (!released) this.#lifecycle?.changed?.(tracked.handle);
          },
        };
        // Ended after returning, so the caller holds its registration when the end is reported.
        const placement = pending.placedAt;
        const cancelled =
          pending.cancelled ??
          (closesAt !== null && closesAt.getTime() <= this.#clock.now() ? { code: CloseCode.windowClosed, reason: 'access window closed' } : null) ??
          // The set-up dialled the VM its read of the build named; a newer registration replaced it.
          (placement && handle.endpoint !== placement.endpoints[handle.kind] ? { code: CloseCode.sessionEnded, reason: VM_REPLACED_REASON } : null) ??
          (placement && handle.appId !== placement.appId && handle.recorded ? { code: CloseCode.sessionEnded, reason: MOVED_WHILE_RECORDED_REASON } : null);
        if (cancelled) {
          queueMicrotask(() => {
            this.#live.delete(handle.id);
            this.#unscheduleIfUnused(handle.buildId);
            handle.end(cancelled.code, cancelled.reason);
          });
        } else if (placement && handle.appId !== placement.appId) {
          // Its policy check read the build's former app: check the role on the new one, as for live ones.
          tracked.handle = { ...handle, appId: placement.appId };
          queueMicrotask(() => this.#recheckRole(tracked.handle, placement.appId));
        }
        return registration;
      },
      abandon: () => {
        this.#pending.delete(pending);
      },
    };
  }

  /**
   * A build's window was set or narrowed (PUT, finish, revoke, release) or, by a user's Extend,
   * moved later: the one cause that may push a scheduled close back. `reason` names who released it.
   */
  windowChanged(buildId: BuildId, closesAt: Date | null, cause: WindowCause, reason?: string): void {
    this.#watchers?.windowChanged(buildId);
    const closed = closesAt !== null && closesAt.getTime() <= this.#clock.now();
    if (closed) {
      // A revoked build's window has closed too: pages show the final "window closed" state.
      const why = reason ?? (cause === 'revoke' ? 'access revoked' : 'access window closed');
      const ended = this.#cancelPending((p) => p.buildId === buildId, CloseCode.windowClosed, why) + this.#end((c) => c.buildId === buildId, CloseCode.windowClosed, why);
      this.#unschedule(buildId);
      // A revocation is an act worth recording on its own (a release is audited by its route); a window already closed is news only when it ended something.
      if (cause === 'revoke') this.#events.record({ type: 'access_revoked', buildId, userId: null, appId: null, reason: why, connectionsEnded: ended });
      else if (ended > 0) this.#events.record({ type: 'window_closed', buildId, connectionsEnded: ended });
      return;
    }
    for (const p of this.#pending) {
      if (p.buildId !== buildId) continue;
      if (cause === 'extend') {
        p.narrowedTo = closesAt;
        p.extended = true;
      } else p.narrowedTo = earlierCloseTime(p.narrowedTo, closesAt);
    }
    for (const t of this.#live.values()) if (t.handle.buildId === buildId) t.handle.windowChanged(closesAt);
    // Only an extension re-arms a deadline later; every other change can only bring it forward.
    if (cause === 'extend') this.#unschedule(buildId);
    if (this.#hasConnections(buildId)) this.#schedule(buildId, closesAt);
  }

  /** A membership changed or was removed; null role means no longer a member. */
  membershipChanged(appId: AppId, userId: UserId, role: Role | null): void {
    this.#watchers?.membershipChanged(appId, userId, role);
    if (role !== null && REMOTE_ACCESS_ROLES.has(role)) return;
    const reason = role === null ? 'removed from the app' : 'role no longer allows remote access';
    const ended = this.#cancelPending((p) => p.userId === userId, CloseCode.accessRevoked, reason) + this.#end((c) => c.userId === userId && c.appId === appId, CloseCode.accessRevoked, reason);
    if (ended > 0) this.#events.record({ type: 'access_revoked', buildId: null, userId, appId, reason, connectionsEnded: ended });
  }

  /**
   * A build was registered (again). Connections to a VM endpoint it no longer has end with 4005;
   * if it moved to another app, each user's role there is checked and those without an allowed
   * role end with 4001. The rest follow the new app. Idempotent: a registration that changes
   * nothing ends nothing.
   */
  buildChanged(buildId: BuildId, placement: BuildPlacement): void {
    this.#watchers?.buildMoved(buildId, placement.appId);
    for (const p of this.#pending) if (p.buildId === buildId) p.placedAt = placement;
    const replaced = this.#end((c) => c.buildId === buildId && c.endpoint !== placement.endpoints[c.kind], CloseCode.sessionEnded, VM_REPLACED_REASON);
    if (replaced > 0) this.#logger.info({ event: 'build_vm_replaced', buildId, connectionsEnded: replaced }, 'build re-registered with another VM endpoint');
    const moved = [...this.#live.values()].filter((t) => t.handle.buildId === buildId && t.handle.appId !== placement.appId);
    for (const t of moved) {
      // What is typed after the move must not land in a recording the old app's members can replay;
      // reconnecting opens it under the new app's rules, recording included.
      if (t.handle.recorded) {
        this.#end((c) => c === t.handle, CloseCode.sessionEnded, MOVED_WHILE_RECORDED_REASON);
        continue;
      }
      t.handle = { ...t.handle, appId: placement.appId };
      this.#recheckRole(t.handle, placement.appId);
    }
  }

  /** The user was deleted. */
  userRemoved(userId: UserId): void {
    this.#watchers?.userEnded(userId);
    this.#endUser(userId, 'user removed');
  }

  /**
   * The user's sign-in changed (a new password, subject or email): every session and token of
   * theirs ended. With `currentEpoch` (reconciliation, which may run after the user signed in
   * again) only connections opened under an older sign-in end.
   */
  signInChanged(userId: UserId, currentEpoch?: string): void {
    this.#watchers?.userEnded(userId, currentEpoch);
    if (currentEpoch === undefined) return this.#endUser(userId, SIGN_IN_CHANGED_REASON);
    const ended = this.#end((c) => c.userId === userId && c.sessionEpoch !== currentEpoch, CloseCode.accessRevoked, SIGN_IN_CHANGED_REASON);
    if (ended > 0) this.#events.record({ type: 'access_revoked', buildId: null, userId, appId: null, reason: SIGN_IN_CHANGED_REASON, connectionsEnded: ended });
  }

  /** One browser signed out (or its session was dropped): the connections it opened end, no others. */
  signedOut(signInId: string): void {
    this.#watchers?.signedOut(signInId);
    const ended = this.#cancelPending((p) => p.signInId === signInId, CloseCode.accessRevoked, SIGNED_OUT_REASON) + this.#end((c) => c.signInId === signInId, CloseCode.accessRevoked, SIGNED_OUT_REASON);
    if (ended > 0) this.#events.record({ type: 'access_revoked', buildId: null, userId: null, appId: null, reason: SIGNED_OUT_REASON, connectionsEnded: ended });
  }

  /** Shutdown: every connection gets `code` (1001). */
  endAll(code: number, reason: string): void {
    this.#watchers?.endAll(reason);
    this.#cancelPending(() => true, code, reason);
    this.#end(() => true, code, reason);
  }

  /** Ends a moved connection unless its user has an allowed role on the new app. */
  #recheckRole(handle: ConnectionHandle, appId: AppId): void {
    const endUnlessAllowed = (role: Role | null, reason: string): void => {
      if (role !== null && REMOTE_ACCESS_ROLES.has(role)) return;
      // Still the same connection, and not moved again meanwhile (the next move checks again).
      const ended = this.#end((c) => c.id === handle.id && c.appId === appId, CloseCode.accessRevoked, reason);
      if (ended > 0) this.#events.record({ type: 'access_revoked', buildId: handle.buildId, userId: handle.userId, appId, reason, connectionsEnded: ended });
    };
    if (!this.#roleOf) return endUnlessAllowed(null, BUILD_MOVED_REASON);
    this.#roleOf(appId, handle.userId).then(
      (role) => endUnlessAllowed(role, BUILD_MOVED_REASON),
      (error: unknown) => {
        this.#logger.warn({ event: 'role_check_failed', buildId: handle.buildId, userId: handle.userId, err: error }, 'role on the new app could not be read; ending the connection');
        endUnlessAllowed(null, ROLE_UNCONFIRMED_REASON);
      },
    );
  }

  /** The live connections of this node, for reconciliation with the database. */
  liveConnections(): readonly ConnectionHandle[] {
    return [...this.#live.values()].map((t) => t.handle);
  }

  /** When this node will close the build's connections, if it knows a close time. */
  scheduledClose(buildId: BuildId): Date | null {
    const deadline = this.#deadlines.get(buildId);
    return deadline ? new Date(deadline.at) : null;
  }

  dispose(): void {
    this.#clock.clearInterval(this.#sweeper);
    for (const { timer } of this.#deadlines.values()) this.#clock.clearTimeout(timer);
    this.#deadlines.clear();
  }

  #endUser(userId: UserId, reason: string): void {
    const ended = this.#cancelPending((p) => p.userId === userId, CloseCode.accessRevoked, reason) + this.#end((c) => c.userId === userId, CloseCode.accessRevoked, reason);
    if (ended > 0) this.#events.record({ type: 'access_revoked', buildId: null, userId, appId: null, reason, connectionsEnded: ended });
  }

  /** Ends the matching live connections; returns how many. */
  #end(match: (c: ConnectionHandle) => boolean, code: number, reason: string): number {
    const doomed = [...this.#live.values()].filter((t) => match(t.handle));
    for (const t of doomed) {
      this.#live.delete(t.handle.id);
      t.handle.end(code, reason);
    }
    if (doomed.length > 0) this.#logger.info({ event: 'connections_ended', code, reason, count: doomed.length }, 'live connections ended');
    return doomed.length;
  }

  /** Cancels the matching connections being set up; returns how many. */
  #cancelPending(match: (p: Pending) => boolean, code: number, reason: string): number {
    let cancelled = 0;
    for (const p of this.#pending) {
      if (match(p) && !p.cancelled) {
        p.cancelled = { code, reason };
        cancelled += 1;
      }
    }
    return cancelled;
  }

  #hasConnections(buildId: BuildId): boolean {
    for (const t of this.#live.values()) if (t.handle.buildId === buildId) return true;
    return false;
  }

  #schedule(buildId: BuildId, closesAt: Date | null): void {
    if (closesAt === null) return;
    const at = closesAt.getTime();
    const existing = this.#deadlines.get(buildId);
    if (existing && existing.at <= at) return;
    if (existing) this.#clock.clearTimeout(existing.timer);
    const arm = (): NodeJS.Timeout => {
      const delay = Math.max(0, at - this.#clock.now());
      const timer = this.#clock.setTimeout(() => {
        if (this.#clock.now() < at) {
          this.#deadlines.set(buildId, { at, timer: arm() });
          return;
        }
        this.#deadlines.delete(buildId);
        const ended = this.#end((c) => c.buildId === buildId, CloseCode.windowClosed, 'access window closed');
        this.#events.record({ type: 'window_closed', buildId, connectionsEnded: ended });
      }, Math.min(delay, MAX_TIMER_MS));
      timer.unref?.();
      return timer;
    };
    this.#deadlines.set(buildId, { at, timer: arm() });
  }

  #unschedule(buildId: BuildId): void {
    const existing = this.#deadlines.get(buildId);
    if (existing) this.#clock.clearTimeout(existing.timer);
    this.#deadlines.delete(buildId);
  }

  #unscheduleIfUnused(buildId: BuildId): void {
    if (!this.#hasConnections(buildId)) this.#unschedule(buildId);
  }

  #sweepIdle(): void {
    const cutoff = this.#clock.now() - this.#idleTimeoutMs;
    this.#end((c) => (this.#live.get(c.id)?.lastActivity ?? Infinity) <= cutoff, CloseCode.idleTimeout, 'idle timeout');
  }
}

