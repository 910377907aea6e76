/**
 * Who may open which connection, decided in one place: minting a connection ticket (for the
 * signed-in user's pages and for embed pages alike) and redeeming it at the WebSocket upgrade,
 * before anything is dialled. Both apply the one access policy (../access/), the per-user
 * connection cap and the same refusal texts, and file every refusal in the audit trail. The
 * ticket answer tells the page where to connect, never what the gateway dials.
 */
import type { IncomingMessage } from 'node:http';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionTicketView } from '../../../shared/src/api.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { kindOfWebSocketPath, TICKET_SUBPROTOCOL_PREFIX, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { GatewayError } from '../errors.js';
import type { AppRecord, BuildRecord, Store } from '../store/store.js';
import { holdsCurrentEpoch } from '../store/session-epoch.js';
import type { EventSink, TicketRefusalReason } from '../audit/events.js';
import type { TicketBook, TicketClaims } from '../connections/tickets.js';
import type { ConnectionEndpoints } from '../connections/endpoints.js';
import { REFUSAL_MESSAGES } from '../access/remote-access.js';
import { loadBuildStanding } from '../access/build-access.js';
import type { ReleaseSlot, UserConnectionQuota } from './connection-quota.js';
import type { AccessEnforcer, PendingConnection } from './access-enforcer.js';
import type { RemoteSession, RemoteSessionLocator, SessionDirectory, SessionOwner } from './session-directory.js';
import { requestPath } from '../ws/request-path.js';

export interface AdmissionDeps {
  readonly store: Store;
  readonly tickets: TicketBook;
  readonly endpoints: ConnectionEndpoints;
  readonly quota: UserConnectionQuota;
  readonly enforcer: AccessEnforcer;
  /** Sessions a page may resume on this node. */
  readonly sessions: SessionDirectory;
  /** Sessions other nodes hold, resumed through this one by relaying the page there. */
  readonly otherNodes: RemoteSessionLocator;
  /** PORTHOLE_WATCH: members may watch each other's sessions. */
  readonly watchEnabled: boolean;
  readonly now: () => Date;
  /** Mints and refusals go to the audit trail (and from there to the log and metrics). */
  readonly events: EventSink;
  /** The gateway's own origin plus PORTHOLE_ALLOWED_ORIGINS: where upgrades may come from. */
  readonly allowedOrigins: ReadonlySet<string>;
  /**
   * The signed-in user of an upgrade request, found by the same session middleware as HTTP
   * routes; null without a session (embedded pages have none and rely on the ticket alone).
   */
  readonly identify: (req: IncomingMessage) => Promise<UserId | null>;
  /** The client's address by the HTTP routes' rule, for the audit trail. */
  readonly clientAddress: (req: IncomingMessage) => string | null;
  /** True once the gateway is draining: upgrades are refused. */
  readonly draining: () => boolean;
}

export interface TicketWish {
  readonly userId: UserId;
  /** null: the request named no valid build id, which answers like an unknown build. */
  readonly buildId: BuildId | null;
  readonly kind: ConnectionKind;
  readonly viewOnly: boolean;
  /** The page's origin, which the WebSocket upgrade must present. */
  readonly origin: string;
  /** The user's session epoch the request was authenticated under. */
  readonly sessionEpoch: string;
  /** The sign-in session asking (../auth/sign-in-id.ts); null for embed pages. */
  readonly signInId: string | null;
  /** A held session of the user's to resume (or with `watch`, another member's to watch); null opens a new one. */
  readonly sessionId: string | null;
  /** Join the session named by sessionId as a watcher (issue #16). */
  readonly watch: boolean;
}

/** An upgrade that may proceed: the ticket's claims, what the policy read, and what it holds. */
export interface Admitted {
  readonly claims: TicketClaims;
  readonly build: BuildRecord;
  /** The build's app, for its per-app settings (session recording). */
  readonly app: AppRecord | null;
  /** How the user is named to the other pages attached to a session. */
  readonly userName: string;
  /** Claimed before the final policy check; a revocation since then has cancelled it. */
  readonly pending: PendingConnection;
  /** The user's connection slot, given back when the browser's socket is gone. */
  readonly releaseSlot: ReleaseSlot;
  /** The session to resume or watch is held by another node: the page is relayed there. */
  readonly relayTo: RemoteSession | null;
  /** The upgrade did not happen after all: forget the claim, give the slot back. */
  abandon(): void;
}

export interface Admission {
  /** A ticket for the user's next connection; throws a GatewayError on refusal (already audited). */
  mint(wish: TicketWish): Promise<ConnectionTicketView>;
  /**
   * Redeems the upgrade's ticket. A refusal by the policy is audited and answered with its error;
   * a path that is no endpoint, and a failing store, throw.
   */
  redeem(req: IncomingMessage): Promise<Result<Admitted, GatewayError>>;
}

const DRAINING_MESSAGE = 'The gateway is restarting. Reconnect in a moment.';
/** The same for a session that ended, never existed or is someone else's: nothing about whose it is. */
const SESSION_NOT_FOUND_MESSAGE = 'That session has ended.';
export const WATCH_DISABLED_MESSAGE = 'Watching sessions is turned off on this gateway.';

/** The user's slot is held by the session being resumed: nothing to give back. */
const NO_SLOT: ReleaseSlot = () => undefined;

function tooManyConnections(limit: number): GatewayError {
  return new GatewayError('too_many_connections', `You already have ${limit} open connections; close one first.`);
}

/** A refusal: the answer the client gets, and what the audit trail records about it. */
class Refusal extends Error {
  constructor(
    readonly error: GatewayError,
    readonly reason: TicketRefusalReason,
    readonly claims: TicketClaims | null = null,
  ) {
    super(error.message);
  }
}

export function createAdmission(deps: AdmissionDeps): Admission {
  return {
    mint: (wish) => mint(deps, wish),
    redeem: async (req) => {
      try {
        return ok(await redeem(deps, req));
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        const { claims } = error;
        deps.events.record({
          type: 'ticket_refused',
          stage: 'redeem',
          reason: error.reason,
          userId: claims?.userId ?? null,
          buildId: claims?.buildId ?? null,
          kind: claims?.kind ?? kindOfWebSocketPath(requestPath(req)),
          clientAddress: deps.clientAddress(req),
        });
        return err(error.error);
      }
    },
  };
}

async function mint(deps: AdmissionDeps, wish: TicketWish): Promise<ConnectionTicketView> {
  const { userId, kind } = wish;
  const standing = wish.buildId === null ? null : await loadBuildStanding(deps.store, wish.buildId, userId, deps.now());
  const refuse = (reason: TicketRefusalReason): void => {
    deps.events.record({ type: 'ticket_refused', stage: 'mint', reason, userId, buildId: wish.buildId, kind, clientAddress: null });
  };
  if (!standing) {
    refuse('not_found');
    throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
  }
  if (!standing.decision.ok) {
    refuse(standing.decision.error);
    throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
  }
  if (wish.viewOnly && !deps.endpoints.viewOnlyKinds.has(kind)) throw new GatewayError('invalid_field', 'viewOnly: only screens can be view-only');
  const availability = deps.endpoints.availability(standing.build, kind);
  if (!availability.ok) {
    refuse('kind_unavailable');
    throw new GatewayError('invalid_field', `kind: ${availability.error}`);
  }
  if (wish.watch) {
    if (!deps.watchEnabled) throw new GatewayError('role_forbidden', WATCH_DISABLED_MESSAGE);
    if (wish.sessionId === null) throw new GatewayError('invalid_field', 'sessionId: watching names the session to watch');
  }
  if (wish.sessionId !== null && (await whereIs(deps, wish.sessionId, { userId, buildId: standing.build.id, kind }, wish.watch)) === null) {
    refuse('session_not_found');
    throw new GatewayError('session_not_found', SESSION_NOT_FOUND_MESSAGE);
  }
  // Checked here too, so a page learns of the cap from a clear 429 instead of a failed upgrade. A
  // held session already counts: resuming it takes no second slot (watching one does).
  if ((wish.sessionId === null || wish.watch) && deps.quota.held(userId) >= deps.quota.limit) {
    refuse('too_many_connections');
    throw tooManyConnections(deps.quota.limit);
  }
  const minted = await deps.tickets.mint({
    userId,
    buildId: standing.build.id,
    kind,
    origin: wish.origin,
    viewOnly: wish.viewOnly,
    sessionEpoch: wish.sessionEpoch,
    signInId: wish.signInId,
    sessionId: wish.sessionId,
    watch: wish.watch,
  });
  if (!minted.ok && minted.error === 'owner_full') {
    refuse('too_many_user_tickets');
    throw new GatewayError('rate_limited', 'You have too many connections starting at once. Try again in a few seconds.');
  }
  if (!minted.ok) {
    refuse('too_many_tickets');
    throw new GatewayError('rate_limited', 'Too many connections are starting at once. Try again in a few seconds.');
  }
  deps.events.record({ type: 'ticket_minted', userId, buildId: standing.build.id, kind, viewOnly: wish.viewOnly });
  return {
    ticket: minted.value.token,
    url: deps.endpoints.webSocketUrl(kind, standing.build.id),
    protocol: deps.endpoints.subprotocol(kind),
    expiresAt: minted.value.expiresAt.toISOString(),
  };
}

async function redeem(deps: AdmissionDeps, req: IncomingMessage): Promise<Admitted> {
  const kind = kindOfWebSocketPath(requestPath(req));
  if (!kind || !deps.endpoints.enabledKinds.has(kind)) throw new GatewayError('not_found', 'No WebSocket endpoint here.');
  if (deps.draining()) throw new Refusal(new GatewayError('draining', DRAINING_MESSAGE), 'draining');

  const origin = req.headers.origin;
  if (origin === undefined || !deps.allowedOrigins.has(origin)) {
    throw new Refusal(new GatewayError('forbidden_origin', 'This page may not open connections to the gateway.'), 'forbidden_origin');
  }

  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const ticketEntries = offered.filter((p) => p.startsWith(TICKET_SUBPROTOCOL_PREFIX));
  const subprotocol = deps.endpoints.subprotocol(kind);
  if (!offered.includes(subprotocol)) throw new Refusal(new GatewayError('bad_request', `Offer the "${subprotocol}" subprotocol.`), 'bad_subprotocol');
  if (ticketEntries.length !== 1) throw new Refusal(new GatewayError('invalid_ticket', 'A connection ticket is required.'), 'missing_ticket');
  const ticket = (ticketEntries[0] ?? '').slice(TICKET_SUBPROTOCOL_PREFIX.length);

  const redeemed = await deps.tickets.redeem(ticket);
  if (!redeemed.ok) {
    const message = redeemed.reason === 'expired' ? 'The connection ticket expired.' : 'The connection ticket is not valid.';
    throw new Refusal(new GatewayError('invalid_ticket', message), redeemed.reason);
  }
  const { claims } = redeemed;
  const sessionUser = await deps.identify(req);
  if (claims.kind !== kind || claims.origin !== origin || claims.buildId !== buildOf(req) || (sessionUser !== null && sessionUser !== claims.userId)) {
    throw new Refusal(new GatewayError('invalid_ticket', 'The connection ticket was issued for another connection.'), 'wrong_connection', claims);
  }
  const held = claims.sessionId === null ? null : await whereIs(deps, claims.sessionId, claims, claims.watch);
  if (claims.sessionId !== null && held === null) {
    throw new Refusal(new GatewayError('session_not_found', SESSION_NOT_FOUND_MESSAGE), 'session_not_found', claims);
  }
  const relayTo = held === null || held === 'here' ? null : held;
  return admitClaims(deps, claims, relayTo);
}

/** What admitting proven claims needs: the part of the admission a node holding a watched session uses too. */
export type ClaimsAdmissionDeps = Pick<AdmissionDeps, 'store' | 'quota' | 'enforcer' | 'now'>;

/** A refusal as the caller answers it and files it in the audit trail. */
export interface AdmissionRefusal {
  readonly error: GatewayError;
  readonly reason: TicketRefusalReason;
}

/**
 * The node holding a session admits a watcher another node relays to it (../cluster/relay-endpoint.ts):
 * the same checks as for a ticket redeemed here, and the watcher's slot and live registration are
 * taken here, where the session is, so its access is enforced here like a local watcher's.
 */
export async function admitRelayedWatcher(deps: ClaimsAdmissionDeps, claims: TicketClaims): Promise<Result<Admitted, AdmissionRefusal>> {
  if (!claims.watch || claims.sessionId === null) throw new Error('only a watcher is admitted from a relay');
  try {
    return ok(await admitClaims(deps, claims, null));
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return err({ error: error.error, reason: error.reason });
  }
}

/**
 * Admits claims already proven (a redeemed ticket, or a relayed watcher's assertion): takes the
 * user's slot (a resume holds one already) and claims the live registration, then checks the
 * sign-in, the membership, the role and the window again. Throws a Refusal.
 */
async function admitClaims(deps: ClaimsAdmissionDeps, claims: TicketClaims, relayTo: RemoteSession | null): Promise<Admitted> {
  const resuming = claims.sessionId !== null && !claims.watch;
  const releaseSlot = resuming ? NO_SLOT : deps.quota.tryAcquire(claims.userId);
  if (!releaseSlot) throw new Refusal(tooManyConnections(deps.quota.limit), 'too_many_connections', claims);
  // Claim first, check second: a revocation landing while the store is read cancels the claim.
  const pending = deps.enforcer.beginConnection(claims.userId, claims.buildId, claims.signInId);
  const abandon = (): void => {
    pending.abandon();
    releaseSlot();
  };
  try {
    // The ticket speaks for its user only while their sign-in (and the browser session that minted it) lasts.
    const [user, signedIn] = await Promise.all([
      deps.store.getUser(claims.userId),
      claims.signInId === null ? true : deps.store.isSignInLive(claims.signInId, claims.userId, deps.now()),
    ]);
    if (!holdsCurrentEpoch(user, claims.sessionEpoch) || !signedIn) {
      throw new Refusal(new GatewayError('unauthenticated', 'Your sign-in has ended. Sign in again.'), 'signed_out', claims);
    }
    const standing = await loadBuildStanding(deps.store, claims.buildId, claims.userId, deps.now());
    if (!standing) throw new Refusal(new GatewayError('role_forbidden', 'You no longer have access to this build.'), 'not_found', claims);
    if (!standing.decision.ok) {
      const refusal = standing.decision.error;
      const code = refusal === 'not_found' ? 'role_forbidden' : refusal;
      throw new Refusal(new GatewayError(code, REFUSAL_MESSAGES[refusal]), refusal, claims);
    }
    const app = await deps.store.getApp(standing.build.appId);
    const cancelled = pending.cancelled;
    if (cancelled) throw cancelledRefusal(cancelled.code, claims);
    return { claims, build: standing.build, app, userName: user?.name ?? user?.email ?? claims.userId, pending, releaseSlot, relayTo, abandon };
  } catch (error) {
    abandon();
    throw error;
  }
}

/**
 * This node holds the session, another one does, or (null) none: it ended, never was, or is
 * someone else's. Watching takes any member's session on the build, on whichever node holds it.
 */
async function whereIs(deps: AdmissionDeps, sessionId: string, owner: SessionOwner, watch: boolean): Promise<'here' | RemoteSession | null> {
  if (watch) return deps.sessions.findOnBuild(sessionId, owner) ? 'here' : deps.otherNodes.locateOnBuild(sessionId, owner);
  if (deps.sessions.find(sessionId, owner)) return 'here';
  return deps.otherNodes.locate(sessionId, owner);
}

function cancelledRefusal(code: number, claims: TicketClaims): Refusal {
  if (code === CloseCode.goingAway) return new Refusal(new GatewayError('draining', DRAINING_MESSAGE), 'draining', claims);
  const error = code === CloseCode.windowClosed ? new GatewayError('window_closed', 'Access ended while connecting.') : new GatewayError('role_forbidden', 'Access ended while connecting.');
  return new Refusal(error, 'access_ended', claims);
}

function buildOf(req: IncomingMessage): string | null {
  return new URL(req.url ?? '/', 'http://upgrade.invalid').searchParams.get('build');
}
