/**
 * Routes WebSocket upgrades. Every check runs on the plain HTTP request, before the upgrade and
 * before anything is dialled: path, Origin, subprotocols, the single-use ticket, and the same
 * remote-access policy as the HTTP routes. A refusal is an ordinary HTTP error response.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { UserId } from '../../../shared/src/ids.js';
import { GatewayError, storeUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AppRecord, BuildRecord, Store } from '../store/store.js';
import type { TicketBook, TicketClaims } from '../connections/tickets.js';
import { type ConnectionEndpoints } from '../connections/endpoints.js';
import { loadBuildStanding } from '../access/build-access.js';
import { REFUSAL_MESSAGES } from '../access/remote-access.js';
import type { Heartbeat } from './heartbeat.js';
import { sliceReads } from './read-slices.js';
import type { ReadGate } from '../protocols/frames.js';
import type { ReleaseSlot, UserConnectionQuota } from './connection-quota.js';
import type { AccessEnforcer, PendingConnection } from '../sessions/access-enforcer.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { isStoreUnavailable } from '../store/store-errors.js';
import type { EventSink, TicketRefusalReason } from '../audit/events.js';
import { holdsCurrentEpoch } from '../store/session-epoch.js';
import { TICKET_SUBPROTOCOL_PREFIX, WEBSOCKET_PATHS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';

/** Terminal control messages and keystroke frames are small; a paste is sent in chunks below this. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/**
 * Browsers send every WebSocket message as one frame; a message in more is a client making the
 * gateway do per-frame work for nothing (ws would allow 16,384). ws closes it with 1008.
 */
export const MAX_FRAMES_PER_CLIENT_MESSAGE = 16;
/**
 * Socket reads one frame may take to arrive: a 64 KiB frame in 536-byte segments (TCP's minimum
 * MSS) takes 123; far more is a sender dribbling bytes (ws would allow 262,144). ws closes with 1008.
 */
export const MAX_READS_PER_CLIENT_FRAME = 512;

export interface AcceptedConnection {
  readonly ws: WebSocket;
  /** Stops parsing what the browser sends, once it is closed for breaking a rule. */
  readonly readGate: ReadGate;
  readonly claims: TicketClaims;
  readonly build: BuildRecord;
  /** The build's app, for its per-app settings (session recording). */
  readonly app: AppRecord | null;
  /** Claimed before the final policy check; a revocation since then has cancelled it. */
  readonly pending: PendingConnection;
}

export interface UpgradeDeps {
  readonly store: Store;
  readonly tickets: TicketBook;
  readonly endpoints: ConnectionEndpoints;
  /** The gateway's own origin plus PORTHOLE_ALLOWED_ORIGINS. */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly heartbeat: Heartbeat;
  readonly enforcer: AccessEnforcer;
  readonly quota: UserConnectionQuota;
  readonly logger: Logger;
  readonly now: () => Date;
  /**
   * The signed-in user of the upgrade request, found by the same session middleware as HTTP
   * routes; null without a session (embedded pages have none and rely on the ticket alone).
   */
  readonly identify: (req: IncomingMessage) => Promise<UserId | null>;
  /** Starts the protocol session for an accepted connection. */
  readonly accept: (connection: AcceptedConnection) => void;
  /** Refusals go to the audit trail as `ticket_refused` (stage "redeem"). */
  readonly events: EventSink;
  /** The client's address by the HTTP routes' rule (../http/client-address.ts), for the audit trail. */
  readonly clientAddress: (req: IncomingMessage) => string | null;
  /** True once the gateway is draining: upgrades are refused with 503. */
  readonly draining: () => boolean;
}

/** An upgrade refused: the HTTP answer, and what the audit trail records about it. */
class UpgradeRefusal extends Error {
  constructor(
    readonly error: GatewayError,
    readonly reason: TicketRefusalReason,
    readonly claims: TicketClaims | null = null,
  ) {
    super(error.message);
  }
}

const KIND_BY_PATH: ReadonlyMap<string, ConnectionKind> = new Map(
  (Object.entries(WEBSOCKET_PATHS) as [ConnectionKind, string][]).map(([kind, path]) => [path, kind]),
);

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export function createUpgradeHandler(deps: UpgradeDeps): { handle: UpgradeHandler; close: () => void } {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    maxFragments: MAX_FRAMES_PER_CLIENT_MESSAGE,
    maxBufferedChunks: MAX_READS_PER_CLIENT_FRAME,
    clientTracking: true,
    // Validated before the upgrade: select this endpoint's data subprotocol, never the ticket.
    handleProtocols: (protocols, req) => {
      const kind = KIND_BY_PATH.get(pathOf(req));
      const wanted = kind ? deps.endpoints.subprotocol(kind) : null;
      return wanted !== null && protocols.has(wanted) ? wanted : false;
    },
  });

  const handle: UpgradeHandler = (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    authorize(req, deps).then(
      ({ claims, build, app, pending, releaseSlot }) => {
        const abandon = (): void => {
          pending.abandon();
          releaseSlot();
        };
        if (socket.destroyed) return abandon();
        let upgraded = false;
        wss.handleUpgrade(req, socket, head, (ws) => {
          upgraded = true;
          ws.once('close', releaseSlot);
          // Until a session attaches its own handler, a malformed frame must not crash the process.
          ws.on('error', () => ws.terminate());
          deps.heartbeat.watch(ws);
          const readGate = sliceReads(socket, ws);
          deps.accept({ ws, readGate, claims, build, app, pending });
        });
        // ws refuses bad handshakes (no key, wrong version) without calling back, synchronously.
        if (!upgraded) abandon();
      },
      (error: unknown) => {
        if (error instanceof UpgradeRefusal) {
          const { claims } = error;
          deps.events.record({
            type: 'ticket_refused',
            stage: 'redeem',
            reason: error.reason,
            userId: claims?.userId ?? null,
            buildId: claims?.buildId ?? null,
            kind: claims?.kind ?? KIND_BY_PATH.get(pathOf(req)) ?? null,
            clientAddress: deps.clientAddress(req),
          });
          return refuse(socket, error.error);
        }
        const refusal = error instanceof GatewayError ? error : isStoreUnavailable(error) ? storeUnavailableError() : new GatewayError('internal', 'Something went wrong on our side.');
        if (refusal.code === 'internal') deps.logger.error({ err: error }, 'upgrade failed');
        deps.logger.info({ event: 'upgrade_refused', path: pathOf(req), code: refusal.code }, 'websocket upgrade refused');
        refuse(socket, refusal);
      },
    );
  };

  return {
    handle,
    // Live sockets were already sent their close frames by their owners; let them flush.
    close: () => wss.close(),
  };
}

interface Authorized {
  readonly claims: TicketClaims;
  readonly build: BuildRecord;
  readonly app: AppRecord | null;
  readonly pending: PendingConnection;
  readonly releaseSlot: ReleaseSlot;
}

async function authorize(req: IncomingMessage, deps: UpgradeDeps): Promise<Authorized> {
  const kind = KIND_BY_PATH.get(pathOf(req));
  if (!kind || !deps.endpoints.enabledKinds.has(kind)) throw new GatewayError('not_found', 'No WebSocket endpoint here.');
  if (deps.draining()) throw new UpgradeRefusal(new GatewayError('draining', 'The gateway is restarting. Reconnect in a moment.'), 'draining');

  const origin = req.headers.origin;
  if (origin === undefined || !deps.allowedOrigins.has(origin)) {
    throw new UpgradeRefusal(new GatewayError('forbidden_origin', 'This page may not open connections to the gateway.'), 'forbidden_origin');
  }

  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const ticketEntries = offered.filter((p) => p.startsWith(TICKET_SUBPROTOCOL_PREFIX));
  if (!offered.includes(deps.endpoints.subprotocol(kind))) {
    throw new UpgradeRefusal(new GatewayError('bad_request', `Offer the "${deps.endpoints.subprotocol(kind)}" subprotocol.`), 'bad_subprotocol');
  }
  if (ticketEntries.length !== 1) throw new UpgradeRefusal(new GatewayError('invalid_ticket', 'A connection ticket is required.'), 'missing_ticket');
  const ticket = (ticketEntries[0] ?? '').slice(TICKET_SUBPROTOCOL_PREFIX.length);

  const redeemed = await deps.tickets.redeem(ticket);
  if (!redeemed.ok) {
    const message = redeemed.reason === 'expired' ? 'The connection ticket expired.' : 'The connection ticket is not valid.';
    throw new UpgradeRefusal(new GatewayError('invalid_ticket', message), redeemed.reason);
  }
  const { claims } = redeemed;
  const sessionUser = await deps.identify(req);
  if (claims.kind !== kind || claims.origin !== origin || claims.buildId !== buildOf(req) || (sessionUser !== null && sessionUser !== claims.userId)) {
    throw new UpgradeRefusal(new GatewayError('invalid_ticket', 'The connection ticket was issued for another connection.'), 'wrong_connection', claims);
  }
  const releaseSlot = deps.quota.tryAcquire(claims.userId);
  if (!releaseSlot) {
    const error = new GatewayError('too_many_connections', `You already have ${deps.quota.limit} open connections; close one first.`);
    throw new UpgradeRefusal(error, 'too_many_connections', claims);
  }
  // Claim first, check second: a revocation landing while the store is read cancels the claim.
  const pending = deps.enforcer.beginConnection(claims.userId, claims.buildId, claims.signInId);
  try {
    // The ticket speaks for its user only while their sign-in (and the browser session that minted it) lasts.
    const [user, signedIn] = await Promise.all([
      deps.store.getUser(claims.userId),
      claims.signInId === null ? true : deps.store.isSignInLive(claims.signInId, claims.userId, deps.now()),
    ]);
    if (!holdsCurrentEpoch(user, claims.sessionEpoch) || !signedIn) {
      throw new UpgradeRefusal(new GatewayError('unauthenticated', 'Your sign-in has ended. Sign in again.'), 'signed_out', claims);
    }
    const standing = await loadBuildStanding(deps.store, claims.buildId, claims.userId, deps.now());
    if (!standing) throw new UpgradeRefusal(new GatewayError('role_forbidden', 'You no longer have access to this build.'), 'not_found', claims);
    if (!standing.decision.ok) {
      const refusal = standing.decision.error;
      const code = refusal === 'not_found' ? 'role_forbidden' : refusal;
      throw new UpgradeRefusal(new GatewayError(code, REFUSAL_MESSAGES[refusal]), refusal, claims);
    }
    const app = await deps.store.getApp(standing.build.appId);
    const cancelled = pending.cancelled;
    if (cancelled) throw cancelledRefusal(cancelled.code, claims);
    return { claims, build: standing.build, app, pending, releaseSlot };
  } catch (error) {
    pending.abandon();
    releaseSlot();
    throw error;
  }
}

function cancelledRefusal(code: number, claims: TicketClaims): UpgradeRefusal {
  if (code === CloseCode.goingAway) return new UpgradeRefusal(new GatewayError('draining', 'The gateway is restarting. Reconnect in a moment.'), 'draining', claims);
  const error = code === CloseCode.windowClosed ? new GatewayError('window_closed', 'Access ended while connecting.') : new GatewayError('role_forbidden', 'Access ended while connecting.');
  return new UpgradeRefusal(error, 'access_ended', claims);
}

function refuse(socket: Duplex, error: GatewayError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function buildOf(req: IncomingMessage): string | null {
  return new URL(req.url ?? '/', 'http://upgrade.invalid').searchParams.get('build');
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
