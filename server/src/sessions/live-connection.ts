/**
 * The one owner of a live connection, from the upgrade to the last row written about it. It holds
 * everything the connection uses — the page's socket, the user's quota slot, the heartbeat watch,
 * the drain tracking, the live registration with the access enforcer, the recording, the audit
 * rows and the protocol session — and has one idempotent `close(code, reason)`, the only door
 * out: the browser leaving, the VM leaving, the enforcer ending access, a drain, a broken rule.
 *
 * A session that can outlive its page (a terminal, with PORTHOLE_RESUME_SECONDS > 0) is *held*
 * when its page's socket drops without the user ending it: everything above stays (the slot, the
 * registration — so a window end, revocation or idle timeout still ends it — and the recording),
 * for the hold time, and a page resuming it (./session-directory.ts) becomes its new attachment.
 *
 * VM credentials are opened here, at the last moment, and never leave the process.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CloseCode, RESUMABLE_CLOSE_CODES } from '../../../shared/src/protocol/close-codes.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { vmSecretContext, type VmSecretField } from '../domain/vm-secrets.js';
import { currentRequestId, type Logger } from '../log.js';
import type { Dialer } from '../protocols/dialer.js';
import { closeForSocketError, closeWebSocket, type ReadGate } from '../protocols/frames.js';
import type { Attachment, Person, ProtocolContext, ProtocolRegistry, ProtocolSession, WatcherHandle } from '../protocols/protocol.js';
import type { SessionObserver } from '../protocols/session-observer.js';
import { fileClose, type ClosedBy } from '../protocols/close-attribution.js';
import type { DetachReason, EventSink } from '../audit/events.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { Recorder, SessionRecording } from '../recording/recorder.js';
import { endpointFingerprints } from '../domain/vm-endpoint.js';
import type { Heartbeat } from '../ws/heartbeat.js';
import type { LiveRegistration } from './access-enforcer.js';
import type { Admitted } from './admission.js';
import { closedPromise, type DrainTracker } from './drain.js';
import { meteredDialer } from './metered-dialer.js';
import type { RemoteSession, ResumableSession, SessionDirectory, SessionOwner, SessionPairing, WatcherState } from './session-directory.js';
import type { AttachMode } from '../../../shared/src/protocol/ssh-v1.js';

/** 64 random bits tell connections apart in logs and the audit trail; not a secret (resuming needs a ticket). */
const CONNECTION_ID_BYTES = 8;
const MS_PER_SECOND = 1000;
/** Close reasons of a held session's ends; docs/protocol.md lists them. */
export const HOLD_EXPIRED_REASON = 'not resumed in time';
export const RESUMED_ELSEWHERE_REASON = 'resumed in another page';
const SESSION_GONE_REASON = 'the session has ended';
/** Close reason of a watcher its session's owner removed (4008); docs/protocol.md lists it. */
export const REMOVED_BY_OWNER_REASON = "removed by the session's owner";

export interface LiveConnectionDeps {
  readonly protocols: ProtocolRegistry;
  readonly secrets: SecretBox;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The audit trail; `bind` gives a sink that logs with the connection's own logger. */
  readonly events: { bind(logger: Logger): EventSink };
  readonly metrics: GatewayMetrics;
  readonly recorder: Recorder;
  readonly tracker: DrainTracker;
  readonly heartbeat: Heartbeat;
  /** Sessions a page may resume on this node. */
  readonly sessions: SessionDirectory;
  /** How long a session is held after its page drops (PORTHOLE_RESUME_SECONDS); 0: never. */
  readonly resumeSeconds: number;
  /** This node, named in `session_resumed` rows. */
  readonly nodeId: string;
}

/** Takes an upgraded, admitted WebSocket; the connection owns itself from then on. */
export type AcceptConnection = (ws: WebSocket, readGate: ReadGate, admitted: Admitted) => void;

/** Hands a page resuming or watching a session held by another node to that node (../cluster/session-relay.ts). */
export type RelayToNode = (
  ws: WebSocket,
  readGate: ReadGate,
  session: SessionOwner & Pick<Admitted['claims'], 'watch' | 'sessionEpoch' | 'signInId'> & { readonly sessionId: string },
  node: RemoteSession,
) => void;

export function createConnectionAcceptor(deps: LiveConnectionDeps, relay: RelayToNode): AcceptConnection {
  return (ws, readGate, admitted) => {
    const { sessionId } = admitted.claims;
    if (sessionId === null) return new LiveConnection(deps, ws, readGate, admitted).start();
    if (admitted.claims.watch) {
      const watched = deps.sessions.findOnBuild(sessionId, admitted.claims);
      if (watched) return watched.watch(ws, readGate, admitted);
      admitted.abandon();
      // Held by another node: the watcher's slot and registration are taken there, where its access is enforced.
      if (admitted.relayTo) return relay(ws, readGate, { ...admitted.claims, sessionId }, admitted.relayTo);
      return closeWebSocket(ws, readGate, CloseCode.sessionEnded, SESSION_GONE_REASON);
    }
    // The session keeps the slot and the registration it has (here or on its node); the resume's are not needed.
    admitted.abandon();
    if (admitted.relayTo) return relay(ws, readGate, { ...admitted.claims, sessionId }, admitted.relayTo);
    const session = deps.sessions.find(sessionId, admitted.claims);
    if (session) return session.resume(ws, readGate, null);
    // Ended between the admission's look-up and now (a revocation, its hold running out).
    closeWebSocket(ws, readGate, CloseCode.sessionEnded, SESSION_GONE_REASON);
  };
}

export class LiveConnection implements ResumableSession {
  readonly id = randomBytes(CONNECTION_ID_BYTES).toString('hex');
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  readonly #deps: LiveConnectionDeps;
  readonly #admitted: Admitted;
  readonly #logger: Logger;
  readonly #events: EventSink;
  readonly #openedAt: Date;
  /** The page attached now; null while the session is held. */
  #page: Attachment | null;
  #session: ProtocolSession | null = null;
  #registration: LiveRegistration | null = null;
  #recording: SessionRecording | null = null;
  #holdTimer: NodeJS.Timeout | null = null;
  /** The session this connection watches (another member's, issue #16); null: its own session. */
  readonly #watching: LiveConnection | null;
  /** Connections watching this session: they end with it, with its code. */
  readonly #watchers = new Set<LiveConnection>();
  /** As a watcher: whether the owner lets it type (the protocol enforces it; this is for the live list). */
  #mode: AttachMode = 'watch';
  #pauses = 0;
  /** The node relaying the page attached now, for the `session_resumed` row; null: it reached this one. */
  #resumedVia: string | null = null;
  #closed = false;

  constructor(deps: LiveConnectionDeps, ws: WebSocket, readGate: ReadGate, admitted: Admitted, watching: LiveConnection | null = null) {
    this.#deps = deps;
    this.#watching = watching;
    this.#admitted = admitted;
    this.userId = admitted.claims.userId;
    this.buildId = admitted.build.id;
    this.kind = admitted.claims.kind;
    this.#openedAt = deps.now();
    const reqId = currentRequestId();
    this.#logger = deps.logger.child({ connectionId: this.id, ...(reqId === null ? {} : { reqId }) });
    this.#events = deps.events.bind(this.#logger);
    this.#page = { ws, readGate };
    this.#watch(this.#page);
  }

  start(): void {
    const { claims, build, app, pending } = this.#admitted;
    if (pending.cancelled) {
      const { code, reason } = pending.cancelled;
      this.#events.record({
        type: 'ticket_refused',
        stage: 'redeem',
        reason: code === CloseCode.goingAway ? 'draining' : 'access_ended',
        userId: claims.userId,
        buildId: build.id,
        kind: claims.kind,
        clientAddress: null,
      });
      return this.close(code, reason);
    }
    const adapter = this.#deps.protocols[claims.kind];
    const watching = this.#watching;
    let session: ProtocolSession;
    try {
      session = watching ? watching.#watcherSession(this.#page as Attachment, { userId: claims.userId, name: this.#admitted.userName }, (code, reason) => this.close(code, reason)) : adapter.open(this.#context());
    } catch (error) {
      this.#logger.error({ ...this.#who(), err: error }, 'cannot start the session');
      return this.close(CloseCode.internalError, 'internal error');
    }
    this.#session = session;
    const watchable = session.watch !== undefined;
    this.#recording =
      adapter.recordable && !watching && this.#deps.recorder.shouldRecord(app)
        ? this.#deps.recorder.begin({ buildId: build.id, appId: build.appId, userId: claims.userId, connectionId: this.id }, this.#logger)
        : null;
    this.#registration = pending.activate(
      {
        userId: claims.userId,
        appId: build.appId,
        buildId: build.id,
        kind: claims.kind,
        endpoint: endpointFingerprints(build)[claims.kind] ?? '',
        openedAt: this.#openedAt,
        signInId: claims.signInId,
        sessionEpoch: claims.sessionEpoch,
        recorded: this.#recording !== null,
        // Listed for members (and found across nodes) when a page may resume or watch it.
        ...(this.#resumable || watchable ? { sessionId: this.id, pairing: () => this.pairing() } : {}),
        end: (code, reason) => this.close(code, reason),
        windowChanged: (closesAt) => session.windowChanged?.(closesAt),
        bytes: () => session.relayed(),
      },
      build.closesAt,
    );
    // A screen is never resumed but may be watched: watchers find it by id, a resume does not.
    if (this.#resumable || watchable) this.#deps.sessions.add(this, this.#resumable);
    this.#events.record({ type: 'connection_opened', ...this.#who(), viewOnly: claims.viewOnly, recorded: this.#recording !== null });
    if (watching) this.#events.record({ type: 'watch_started', ...this.#who(), sessionId: watching.id, ownerId: watching.userId });
    session.start().catch((error: unknown) => {
      this.#logger.error({ ...this.#who(), err: error }, 'session failed');
      this.close(CloseCode.internalError, 'internal error');
    });
  }

  get startedAt(): Date {
    return this.#openedAt;
  }

  /** A page resumes this session: it replaces the one attached, if any. */
  resume(ws: WebSocket, readGate: ReadGate, via: string | null): void {
    const page: Attachment = { ws, readGate };
    if (this.#closed || !this.#session?.attach) return closeWebSocket(ws, readGate, CloseCode.sessionEnded, SESSION_GONE_REASON);
    const previous = this.#page;
    if (previous) {
      this.#detach('resumed_elsewhere', CloseCode.resumedElsewhere);
      closeWebSocket(previous.ws, previous.readGate, CloseCode.resumedElsewhere, RESUMED_ELSEWHERE_REASON);
    }
    this.#endHold();
    this.#page = page;
    this.#resumedVia = via;
    this.#watch(page);
    this.#session.attach(page);
    this.#pairingChanged();
  }

  /** Another member's page joins this session as a watcher: a connection of its own, ended with this one. */
  watch(ws: WebSocket, readGate: ReadGate, admitted: Admitted): void {
    if (this.#closed) {
      admitted.abandon();
      return closeWebSocket(ws, readGate, CloseCode.sessionEnded, SESSION_GONE_REASON);
    }
    const watcher = new LiveConnection(this.#deps, ws, readGate, admitted, this);
    this.#watchers.add(watcher);
    watcher.start();
    this.#pairingChanged();
  }

  /** Who is on this session now, one entry per watching user. */
  pairing(): SessionPairing {
    const watchers = new Map<string, WatcherState>();
    for (const watcher of this.#watchers) {
      const seen = watchers.get(watcher.userId);
      // The protocol sets every page of one user alike; a page still joining may lag behind.
      const mode = seen?.mode === 'drive' ? 'drive' : watcher.#mode;
      watchers.set(watcher.userId, { userId: watcher.userId, name: watcher.#admitted.userName, mode });
    }
    return { ownerName: this.#admitted.userName, held: this.#page === null, watchers: [...watchers.values()] };
  }

  setWatcherMode(userId: UserId, mode: AttachMode): boolean {
    if (this.#closed || !this.#watchersOf(userId).length) return false;
    if (!this.#session?.setWatcherMode?.(userId, mode)) return false;
    // The protocol reports a change through observer.control too; this covers one that does not.
    this.#watcherModeChanged(userId, mode);
    return true;
  }

  removeWatcher(userId: UserId): boolean {
    const watchers = this.#watchersOf(userId);
    if (this.#closed || watchers.length === 0) return false;
    for (const watcher of watchers) watcher.close(CloseCode.removedByOwner, REMOVED_BY_OWNER_REASON);
    this.#events.record({ type: 'watcher_removed', ...this.#who(), watcherId: userId });
    return true;
  }

  /** The only door out; idempotent, whoever calls first. */
  close(code: number, reason: string, closedBy: ClosedBy = 'gateway'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.sessions.remove(this);
    // Watchers see the session end as it ended.
    for (const watcher of [...this.#watchers]) watcher.close(code, reason);
    const watched = this.#watching;
    if (watched && watched.#watchers.delete(this)) watched.#pairingChanged();
    this.#endHold();
    const page = this.#page;
    // The close frame goes out before the upstream teardown: when a window closes hundreds of
    // connections in one go, that is what each browser is waiting for.
    if (page) closeWebSocket(page.ws, page.readGate, code, reason);
    this.#session?.stop();
    // The slot counts sockets as well as sessions: it is given back once the page's socket is gone.
    if (page && page.ws.readyState !== page.ws.CLOSED) page.ws.once('close', () => this.#admitted.releaseSlot());
    else this.#admitted.releaseSlot();
    if (this.#registration) this.#registration.release();
    else this.#admitted.pending.abandon();
    if (!this.#session || !this.#registration) return;
    const relayed = this.#session.relayed();
    this.#events.record({
      type: 'connection_closed',
      ...this.#who(),
      ...fileClose(closedBy, code, reason),
      bytesToBrowser: relayed.toBrowser,
      bytesFromBrowser: relayed.fromBrowser,
      pauses: this.#pauses,
      durationMs: this.#deps.now().getTime() - this.#openedAt.getTime(),
    });
    if (this.#recording) this.#deps.tracker.track(this.#recording.finish());
    const watching = this.#watching;
    if (watching) this.#events.record({ type: 'watch_ended', ...this.#who(), sessionId: watching.id, ownerId: watching.userId });
  }

  /** This session as another member's page sees it: a watcher's seat, left when that connection ends. */
  #watcherSession(page: Attachment, person: Person, close: (code: number, reason: string) => void): ProtocolSession {
    const target = this.#session;
    let handle: WatcherHandle | null = null;
    return {
      start: () => {
        handle = target?.watch?.(page, person, close) ?? null;
        if (!handle) close(CloseCode.sessionEnded, SESSION_GONE_REASON);
        return Promise.resolve();
      },
      stop: () => handle?.leave(),
      relayed: () => handle?.relayed() ?? { toBrowser: 0, fromBrowser: 0 },
    };
  }

  #watchersOf(userId: UserId): LiveConnection[] {
    return [...this.#watchers].filter((watcher) => watcher.userId === userId);
  }

  #watcherModeChanged(userId: UserId, mode: AttachMode): void {
    const watchers = this.#watchersOf(userId);
    if (watchers.every((watcher) => watcher.#mode === mode)) return;
    for (const watcher of watchers) watcher.#mode = mode;
    this.#pairingChanged();
  }

  /** Other nodes read who is on the session from the live registry: it is written now. */
  #pairingChanged(): void {
    if (!this.#closed) this.#registration?.changed();
  }

  get #resumable(): boolean {
    return this.#deps.resumeSeconds > 0 && this.#session?.detach !== undefined && this.#session.attach !== undefined;
  }

  /** A page's socket is the owner's from its upgrade until it closes, whether or not it is still the one attached. */
  #watch(page: Attachment): void {
    const { ws } = page;
    this.#deps.tracker.track(closedPromise(ws));
    this.#deps.heartbeat.watch(ws);
    ws.once('close', (code, reason) => this.#pageClosed(page, code, reason.toString('utf8')));
    ws.on('error', (error) => {
      // ws has sent the close frame the error calls for; a malformed frame must not crash the process.
      ws.terminate();
      const close = closeForSocketError(error);
      if (close && page === this.#page) this.close(close.code, close.reason);
    });
  }

  #pageClosed(page: Attachment, code: number, reason: string): void {
    if (page !== this.#page || this.#closed) return;
    // The network or the page went (1001, 1005, 1006), not the user: keep the session for it.
    if (this.#resumable && this.#registration && RESUMABLE_CLOSE_CODES.has(code) && this.#detach('page_left', code)) return;
    this.close(code, reason, 'browser');
  }

  /** Stops relaying to the attached page and holds the session; false when it cannot be held yet. */
  #detach(reason: DetachReason, closeCode: number): boolean {
    const session = this.#session;
    if (!session?.detach?.()) return false;
    this.#page = null;
    this.#events.record({ type: 'session_detached', ...this.#who(), reason, closeCode, holdSeconds: this.#deps.resumeSeconds });
    if (reason === 'page_left') this.#startHold();
    this.#pairingChanged();
    return true;
  }

  #startHold(): void {
    this.#endHold();
    this.#deps.metrics.sessionHeld(this.kind, true);
    this.#holdTimer = setTimeout(() => this.close(CloseCode.sessionEnded, HOLD_EXPIRED_REASON), this.#deps.resumeSeconds * MS_PER_SECOND);
    this.#holdTimer.unref();
  }

  #endHold(): void {
    if (!this.#holdTimer) return;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    this.#deps.metrics.sessionHeld(this.kind, false);
  }

  #who(): { readonly connectionId: string; readonly userId: UserId; readonly buildId: BuildId; readonly kind: ConnectionKind } {
    return { connectionId: this.id, userId: this.userId, buildId: this.buildId, kind: this.kind };
  }

  #context(): ProtocolContext {
    const { claims, build } = this.#admitted;
    const deps = this.#deps;
    const first = this.#page as Attachment;
    return {
      ws: first.ws,
      readGate: first.readGate,
      build,
      sessionId: this.id,
      person: { userId: claims.userId, name: this.#admitted.userName },
      resumeSeconds: deps.resumeSeconds,
      viewOnly: claims.viewOnly,
      dialer: meteredDialer(deps.dialer, claims.kind, (kind, seconds, ok) => deps.metrics.upstreamConnect(kind, seconds, ok), deps.tracker),
      logger: this.#logger,
      now: deps.now,
      observer: this.#observer(),
      recorded: () => this.#recording !== null,
      // Typing in the session is activity for everyone on it: a watcher is not idle while it goes on.
      onInput: () => {
        this.#registration?.touch();
        for (const watcher of this.#watchers) watcher.#registration?.touch();
      },
      close: (code, reason) => this.close(code, reason),
      rejectAttachment: (page, code, reason) => {
        if (page !== this.#page || this.#closed) return;
        this.#page = null;
        closeWebSocket(page.ws, page.readGate, code, reason);
        this.#startHold();
        this.#pairingChanged();
      },
      openSecret: (sealed: string | null, field: VmSecretField) => {
        if (sealed === null) return null;
        const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
        if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
        return opened.value;
      },
    };
  }

  #observer(): SessionObserver {
    const { build } = this.#admitted;
    const meter = this.#deps.metrics.meter(this.kind);
    return {
      output: (chunk) => {
        meter.toBrowser(chunk.length);
        this.#recording?.output(chunk);
      },
      input: (bytes) => meter.fromBrowser(bytes),
      resize: (cols, rows) => this.#recording?.resize(cols, rows),
      typist: (person) => this.#recording?.typist(person),
      paused: () => {
        this.#pauses += 1;
        meter.paused();
      },
      hostKey: (event) =>
        this.#events.record(
          event.kind === 'pinned'
            ? { type: 'host_key_pinned', buildId: build.id, fingerprint: event.fingerprint }
            : { type: 'host_key_mismatch', buildId: build.id, expected: event.expected, presented: event.presented },
        ),
      control: (granteeId, mode) => {
        this.#events.record({ type: mode === 'drive' ? 'control_granted' : 'control_revoked', ...this.#who(), granteeId });
        this.#watcherModeChanged(granteeId as UserId, mode);
      },
      resumed: (requestedOffset, offset) =>
        this.#events.record({ type: 'session_resumed', ...this.#who(), requestedOffset, offset, node: this.#deps.nodeId, via: this.#resumedVia }),
    };
  }
}
