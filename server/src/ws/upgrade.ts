/**
 * Routes WebSocket upgrades. Every check runs on the plain HTTP request, before the upgrade and
 * before anything is dialled: path, Origin, subprotocols, the single-use ticket, and the same
 * remote-access policy as the HTTP routes. A refusal is an ordinary HTTP error response.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../../shared/src/protocol/ssh-v1.js';
import type { UserId } from '../../../shared/src/ids.js';
import { GatewayError, storeUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { BuildRecord, Store } from '../store/store.js';
import type { ConnectionKind, TicketBook, TicketClaims } from '../connections/tickets.js';
import { WEBSOCKET_PATHS, type ConnectionEndpoints } from '../connections/endpoints.js';
import { loadBuildStanding } from '../http/build-access.js';
import { REFUSAL_MESSAGES } from '../policy/remote-access.js';
import type { Heartbeat } from './heartbeat.js';
import type { ReleaseSlot, UserConnectionQuota } from './connection-quota.js';
import type { AccessEnforcer, PendingConnection } from '../sessions/access-enforcer.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { isStoreUnavailable } from '../store/store-errors.js';

/** Terminal control messages and keystroke frames are small; a paste is sent in chunks below this. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export interface AcceptedConnection {
  readonly ws: WebSocket;
  readonly claims: TicketClaims;
  readonly build: BuildRecord;
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
      ({ claims, build, pending, releaseSlot }) => {
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
          deps.accept({ ws, claims, build, pending });
        });
        // ws refuses bad handshakes (no key, wrong version) without calling back, synchronously.
        if (!upgraded) abandon();
      },
      (error: unknown) => {
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
  readonly pending: PendingConnection;
  readonly releaseSlot: ReleaseSlot;
}

async function authorize(req: IncomingMessage, deps: UpgradeDeps): Promise<Authorized> {
  const kind = KIND_BY_PATH.get(pathOf(req));
  if (!kind || !deps.endpoints.enabledKinds.has(kind)) throw new GatewayError('not_found', 'No WebSocket endpoint here.');

  const origin = req.headers.origin;
  if (origin === undefined || !deps.allowedOrigins.has(origin)) {
    throw new GatewayError('forbidden_origin', 'This page may not open connections to the gateway.');
  }

  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const ticketEntries = offered.filter((p) => p.startsWith(TICKET_SUBPROTOCOL_PREFIX));
  if (!offered.includes(deps.endpoints.subprotocol(kind))) {
    throw new GatewayError('bad_request', `Offer the "${deps.endpoints.subprotocol(kind)}" subprotocol.`);
  }
  if (ticketEntries.length !== 1) throw new GatewayError('invalid_ticket', 'A connection ticket is required.');
  const ticket = (ticketEntries[0] ?? '').slice(TICKET_SUBPROTOCOL_PREFIX.length);

  const redeemed = deps.tickets.redeem(ticket);
  if (!redeemed.ok) {
    throw new GatewayError('invalid_ticket', redeemed.reason === 'expired' ? 'The connection ticket expired.' : 'The connection ticket is not valid.');
  }
  const { claims } = redeemed;
  const sessionUser = await deps.identify(req);
  if (claims.kind !== kind || claims.origin !== origin || claims.buildId !== buildOf(req) || (sessionUser !== null && sessionUser !== claims.userId)) {
    throw new GatewayError('invalid_ticket', 'The connection ticket was issued for another connection.');
  }
  const releaseSlot = deps.quota.tryAcquire(claims.userId);
  if (!releaseSlot) {
    throw new GatewayError('too_many_connections', `You already have ${deps.quota.limit} open connections; close one first.`);
  }
  // Claim first, check second: a revocation landing while the store is read cancels the claim.
  const pending = deps.enforcer.beginConnection(claims.userId, claims.buildId);
  try {
    const standing = await loadBuildStanding(deps.store, claims.buildId, claims.userId, deps.now());
    if (!standing) throw new GatewayError('role_forbidden', 'You no longer have access to this build.');
    if (!standing.decision.ok) {
      const code = standing.decision.error === 'not_found' ? 'role_forbidden' : standing.decision.error;
      throw new GatewayError(code, REFUSAL_MESSAGES[standing.decision.error]);
    }
    const cancelled = pending.cancelled;
    if (cancelled) throw new GatewayError(cancelled.code === CloseCode.windowClosed ? 'window_closed' : 'role_forbidden', 'Access ended while connecting.');
    return { claims, build: standing.build, pending, releaseSlot };
  } catch (error) {
    pending.abandon();
    releaseSlot();
    throw error;
  }
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
