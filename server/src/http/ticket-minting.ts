/**
 * Mints a connection ticket after the one access policy says yes: for the signed-in user's pages
 * and for embed pages alike. The answer tells the page where to connect, never what the gateway
 * dials; the policy is checked again when the ticket is redeemed.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionTicketView } from '../../../shared/src/api.js';
import { GatewayError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { EventSink, TicketRefusalReason } from '../audit/events.js';
import type { UserConnectionQuota } from '../ws/connection-quota.js';
import type { TicketBook } from '../connections/tickets.js';
import { kindAvailability, type ConnectionEndpoints } from '../connections/endpoints.js';
import { REFUSAL_MESSAGES } from '../access/remote-access.js';
import { loadBuildStanding } from '../access/build-access.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';

export interface TicketMintingDeps {
  readonly store: Store;
  readonly tickets: TicketBook;
  readonly endpoints: ConnectionEndpoints;
  readonly now: () => Date;
  /** Mints and refusals go to the audit trail (and from there to the log and metrics). */
  readonly events: EventSink;
  /** Checked here too, so a page learns of the cap from a clear 429 instead of a failed upgrade. */
  readonly quota: UserConnectionQuota;
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
}

export async function mintConnectionTicket(deps: TicketMintingDeps, wish: TicketWish): Promise<ConnectionTicketView> {
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
  if (wish.viewOnly && kind !== 'vnc') throw new GatewayError('invalid_field', 'viewOnly: only screens can be view-only');
  const availability = kindAvailability(standing.build, kind, deps.endpoints);
  if (!availability.ok) {
    refuse('kind_unavailable');
    throw new GatewayError('invalid_field', `kind: ${availability.error}`);
  }
  if (deps.quota.held(userId) >= deps.quota.limit) {
    refuse('too_many_connections');
    throw new GatewayError('too_many_connections', `You already have ${deps.quota.limit} open connections; close one first.`);
  }
  const minted = await deps.tickets.mint({
    userId,
    buildId: standing.build.id,
    kind,
    origin: wish.origin,
    viewOnly: wish.viewOnly,
    sessionEpoch: wish.sessionEpoch,
    signInId: wish.signInId,
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
