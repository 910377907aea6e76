/**
 * The one owner of a live connection, from the upgrade to the last row written about it. It holds
 * everything the connection uses — the browser socket, the user's quota slot, the heartbeat watch,
 * the drain tracking, the live registration with the access enforcer, the recording, the audit
 * rows and the protocol session — and has one idempotent `close(code, reason)`, the only door
 * out: the browser leaving, the VM leaving, the enforcer ending access, a drain, a broken rule.
 *
 * VM credentials are opened here, at the last moment, and never leave the process.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { vmSecretContext, type VmSecretField } from '../domain/vm-secrets.js';
import { currentRequestId, type Logger } from '../log.js';
import type { Dialer } from '../protocols/dialer.js';
import { closeForSocketError, closeWebSocket, type ReadGate } from '../protocols/frames.js';
import type { ProtocolContext, ProtocolRegistry, ProtocolSession } from '../protocols/protocol.js';
import type { SessionObserver } from '../protocols/session-observer.js';
import { fileClose, type ClosedBy } from '../protocols/close-attribution.js';
import type { EventSink } from '../audit/events.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { Recorder, SessionRecording } from '../recording/recorder.js';
import { endpointFingerprints } from '../domain/vm-endpoint.js';
import type { Heartbeat } from '../ws/heartbeat.js';
import type { LiveRegistration } from './access-enforcer.js';
import type { Admitted } from './admission.js';
import { closedPromise, type DrainTracker } from './drain.js';
import { meteredDialer } from './metered-dialer.js';

/** 64 random bits tell connections apart in logs and the audit trail. */
const CONNECTION_ID_BYTES = 8;

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
}

/** Takes an upgraded, admitted WebSocket; the connection owns itself from then on. */
export type AcceptConnection = (ws: WebSocket, readGate: ReadGate, admitted: Admitted) => void;

export function createConnectionAcceptor(deps: LiveConnectionDeps): AcceptConnection {
  return (ws, readGate, admitted) => new LiveConnection(deps, ws, readGate, admitted).start();
}

export class LiveConnection {
  readonly id = randomBytes(CONNECTION_ID_BYTES).toString('hex');
  readonly #deps: LiveConnectionDeps;
  readonly #ws: WebSocket;
  readonly #readGate: ReadGate;
  readonly #admitted: Admitted;
  readonly #logger: Logger;
  readonly #events: EventSink;
  readonly #openedAt: Date;
  #session: ProtocolSession | null = null;
  #registration: LiveRegistration | null = null;
  #recording: SessionRecording | null = null;
  #pauses = 0;
  #closed = false;

  constructor(deps: LiveConnectionDeps, ws: WebSocket, readGate: ReadGate, admitted: Admitted) {
    this.#deps = deps;
    this.#ws = ws;
    this.#readGate = readGate;
    this.#admitted = admitted;
    this.#openedAt = deps.now();
    const reqId = currentRequestId();
    this.#logger = deps.logger.child({ connectionId: this.id, ...(reqId === null ? {} : { reqId }) });
    this.#events = deps.events.bind(this.#logger);
    deps.tracker.track(closedPromise(ws));
    deps.heartbeat.watch(ws);
    ws.once('close', (code, reason) => {
      // Held until the browser's socket is gone, not just asked to close: the cap counts sockets.
      admitted.releaseSlot();
      this.close(code, reason.toString('utf8'), 'browser');
    });
    ws.on('error', (error) => {
      // ws has sent the close frame the error calls for; a malformed frame must not crash the process.
      ws.terminate();
      const close = closeForSocketError(error);
      if (close) this.close(close.code, close.reason);
    });
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
    let session: ProtocolSession;
    try {
      session = adapter.open(this.#context());
    } catch (error) {
      this.#logger.error({ ...this.#who(), err: error }, 'cannot start the session');
      return this.close(CloseCode.internalError, 'internal error');
    }
    this.#session = session;
    this.#recording =
      adapter.recordable && this.#deps.recorder.shouldRecord(app)
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
        end: (code, reason) => this.close(code, reason),
        windowChanged: (closesAt) => session.windowChanged?.(closesAt),
        bytes: () => session.relayed(),
      },
      build.closesAt,
    );
    this.#events.record({ type: 'connection_opened', ...this.#who(), viewOnly: claims.viewOnly, recorded: this.#recording !== null });
    session.start().catch((error: unknown) => {
      this.#logger.error({ ...this.#who(), err: error }, 'session failed');
      this.close(CloseCode.internalError, 'internal error');
    });
  }

  /** The only door out; idempotent, whoever calls first. */
  close(code: number, reason: string, closedBy: ClosedBy = 'gateway'): void {
    if (this.#closed) return;
    this.#closed = true;
    // The close frame goes out before the upstream teardown: when a window closes hundreds of
    // connections in one go, that is what each browser is waiting for.
    closeWebSocket(this.#ws, this.#readGate, code, reason);
    this.#session?.stop();
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
  }

  #who(): { readonly connectionId: string; readonly userId: UserId; readonly buildId: BuildId; readonly kind: ConnectionKind } {
    const { claims, build } = this.#admitted;
    return { connectionId: this.id, userId: claims.userId, buildId: build.id, kind: claims.kind };
  }

  #context(): ProtocolContext {
    const { claims, build } = this.#admitted;
    const deps = this.#deps;
    return {
      ws: this.#ws,
      readGate: this.#readGate,
      build,
      sessionId: this.id,
      resumeSeconds: 0,
      viewOnly: claims.viewOnly,
      dialer: meteredDialer(deps.dialer, claims.kind, (kind, seconds, ok) => deps.metrics.upstreamConnect(kind, seconds, ok), deps.tracker),
      logger: this.#logger,
      now: deps.now,
      observer: this.#observer(),
      onInput: () => this.#registration?.touch(),
      close: (code, reason) => this.close(code, reason),
      openSecret: (sealed: string | null, field: VmSecretField) => {
        if (sealed === null) return null;
        const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
        if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
        return opened.value;
      },
    };
  }

  #observer(): SessionObserver {
    const { build, claims } = this.#admitted;
    const meter = this.#deps.metrics.meter(claims.kind);
    return {
      output: (chunk) => {
        meter.toBrowser(chunk.length);
        this.#recording?.output(chunk);
      },
      input: (bytes) => meter.fromBrowser(bytes),
      resize: (cols, rows) => this.#recording?.resize(cols, rows),
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
    };
  }
}
