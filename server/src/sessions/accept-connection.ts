/**
 * Starts the protocol session for an upgraded, authorized WebSocket and hands it to the access
 * enforcer for its whole life. VM credentials are decrypted here, at the last moment, and never
 * leave the process. This is also where a connection gets its id and its observers: the audit
 * trail (opened, closed, host keys), the metrics (bytes, pauses, connect time), the recording of
 * terminals whose app asks for it, and the drain tracker.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { vmSecretContext, type VmSecretField } from '../domain/vm-secrets.js';
import type { Logger } from '../log.js';
import type { BuildRecord, Store } from '../store/store.js';
import type { Dialer } from '../protocols/dialer.js';
import { TerminalSession } from '../protocols/ssh/terminal-bridge.js';
import { ScreenSession } from '../protocols/vnc/screen-bridge.js';
import type { TicketClaims } from '../connections/tickets.js';
import type { AcceptedConnection } from '../ws/upgrade.js';
import type { ReadGate } from '../protocols/frames.js';
import type { LiveRegistration } from './access-enforcer.js';
import type { EventSink } from '../audit/events.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { Recorder } from '../recording/recorder.js';
import type { SessionObserver } from '../protocols/session-observer.js';
import { currentRequestId } from '../log.js';
import { closedPromise, type DrainTracker } from './drain.js';
import { meteredDialer } from './metered-dialer.js';
import { fileClose, type ClosedBy } from '../protocols/close-attribution.js';
import { endpointFingerprints } from '../domain/vm-endpoint.js';

/** 64 random bits tell connections apart in logs and the audit trail. */
const CONNECTION_ID_BYTES = 8;

export interface AcceptDeps {
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly stallTimeoutMs: number;
  /** The audit trail; `bind` gives a sink that logs with the connection's own logger. */
  readonly events: { bind(logger: Logger): EventSink };
  readonly metrics: GatewayMetrics;
  readonly recorder: Recorder;
  readonly tracker: DrainTracker;
}

/** What every protocol session offers its owner. */
interface ProtocolSession {
  start(): Promise<void>;
  end(code: number, reason: string): void;
  windowChanged(closesAt: Date | null): void;
}

interface SessionHooks {
  readonly onInput: () => void;
  readonly onEnd: (summary: {
    readonly closedBy: ClosedBy;
    readonly closeCode: number;
    readonly reason: string;
    readonly bytesToBrowser: number;
    readonly bytesFromBrowser: number;
  }) => void;
  readonly observer: SessionObserver;
  readonly dialer: Dialer;
}

export function createConnectionAcceptor(deps: AcceptDeps): (connection: AcceptedConnection) => void {
  return ({ ws, readGate, claims, build, app, pending }) => {
    const openedAt = deps.now();
    const connectionId = randomBytes(CONNECTION_ID_BYTES).toString('hex');
    const reqId = currentRequestId();
    const logger = deps.logger.child({ connectionId, ...(reqId === null ? {} : { reqId }) });
    const events = deps.events.bind(logger);
    const who = { connectionId, userId: claims.userId, buildId: build.id, kind: claims.kind };
    deps.tracker.track(closedPromise(ws));
    if (pending.cancelled) {
      const { code, reason } = pending.cancelled;
      pending.abandon();
      events.record({ type: 'ticket_refused', stage: 'redeem', reason: code === CloseCode.goingAway ? 'draining' : 'access_ended', userId: claims.userId, buildId: build.id, kind: claims.kind, clientAddress: null });
      ws.close(code, reason);
      return;
    }
    const recording = claims.kind === 'ssh' && deps.recorder.shouldRecord(app) ? deps.recorder.begin({ buildId: build.id, appId: build.appId, userId: claims.userId, connectionId }, logger) : null;
    const meter = deps.metrics.meter(claims.kind);
    let pauses = 0;
    // For the live view (GET /builds/{id}/sessions); the meter keeps only per-kind totals.
    let bytesToBrowser = 0;
    let bytesFromBrowser = 0;
    let registration: LiveRegistration | null = null;
    const hooks: SessionHooks = {
      onInput: () => registration?.touch(),
      onEnd: (summary) => {
        registration?.release();
        events.record({
          type: 'connection_closed',
          ...who,
          ...fileClose(summary.closedBy, summary.closeCode, summary.reason),
          bytesToBrowser: summary.bytesToBrowser,
          bytesFromBrowser: summary.bytesFromBrowser,
          pauses,
          durationMs: deps.now().getTime() - openedAt.getTime(),
        });
        if (recording) deps.tracker.track(recording.finish());
      },
      observer: {
        output: (chunk) => {
          bytesToBrowser += chunk.length;
          meter.toBrowser(chunk.length);
          recording?.output(chunk);
        },
        input: (bytes) => {
          bytesFromBrowser += bytes;
          meter.fromBrowser(bytes);
        },
        resize: (cols, rows) => recording?.resize(cols, rows),
        paused: () => {
          pauses += 1;
          meter.paused();
        },
        hostKey: (event) =>
          events.record(
            event.kind === 'pinned'
              ? { type: 'host_key_pinned', buildId: build.id, fingerprint: event.fingerprint }
              : { type: 'host_key_mismatch', buildId: build.id, expected: event.expected, presented: event.presented },
          ),
      },
      dialer: meteredDialer(deps.dialer, claims.kind, (kind, seconds, ok) => deps.metrics.upstreamConnect(kind, seconds, ok), deps.tracker),
    };
    let session: ProtocolSession;
    try {
      session = createSession(deps, ws, readGate, claims, build, hooks, logger);
    } catch (error) {
      pending.abandon();
      logger.error({ ...who, err: error }, 'cannot start the session');
      ws.close(CloseCode.internalError, 'internal error');
      return;
    }
    registration = pending.activate(
      {
        userId: claims.userId,
        appId: build.appId,
        buildId: build.id,
        kind: claims.kind,
        endpoint: endpointFingerprints(build)[claims.kind] ?? '',
        openedAt,
        signInId: claims.signInId,
        sessionEpoch: claims.sessionEpoch,
        recorded: recording !== null,
        end: (code, reason) => session.end(code, reason),
        windowChanged: (closesAt) => session.windowChanged(closesAt),
        bytes: () => ({ toBrowser: bytesToBrowser, fromBrowser: bytesFromBrowser }),
      },
      build.closesAt,
    );
    events.record({ type: 'connection_opened', ...who, viewOnly: claims.viewOnly, recorded: recording !== null });
    session.start().catch((error: unknown) => {
      logger.error({ ...who, err: error }, 'session failed');
      session.end(CloseCode.internalError, 'internal error');
    });
  };
}

function createSession(deps: AcceptDeps, ws: WebSocket, readGate: ReadGate, claims: TicketClaims, build: BuildRecord, hooks: SessionHooks, logger: Logger): ProtocolSession {
  const open = (sealed: string | null, field: VmSecretField): string | null => {
    if (sealed === null) return null;
    const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
    if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
    return opened.value;
  };
  switch (claims.kind) {
    case 'ssh':
      return new TerminalSession({
        ws,
        readGate,
        build,
        credentials: { username: build.ssh.username, password: open(build.ssh.sealedPassword, 'ssh.password'), privateKey: open(build.ssh.sealedPrivateKey, 'ssh.privateKey') },
        expectedHostKey: build.ssh.hostKey ?? build.ssh.pinnedHostKey,
        pinHostKey: async (fingerprint) => (await deps.store.pinHostKey(build.id, fingerprint)) ?? '',
        dialer: hooks.dialer,
        logger,
        now: deps.now,
        stallTimeoutMs: deps.stallTimeoutMs,
        onInput: hooks.onInput,
        onEnd: hooks.onEnd,
        observer: hooks.observer,
      });
    case 'vnc': {
      const vnc = build.vnc;
      if (!vnc) throw new Error(`build ${build.id} has no vnc endpoint`);
      return new ScreenSession({
        ws,
        readGate,
        build,
        credentials: { username: vnc.username, password: open(vnc.sealedPassword, 'vnc.password') ?? '' },
        viewOnly: claims.viewOnly,
        dialer: hooks.dialer,
        logger,
        onInput: hooks.onInput,
        onEnd: hooks.onEnd,
        observer: hooks.observer,
      });
    }
  }
}
