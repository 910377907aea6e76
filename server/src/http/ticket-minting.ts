/**
 * Mints a connection ticket after the one access policy says yes: for the signed-in user's pages
 * and for embed pages alike. The answer tells the page where to connect, never what the gateway
 * dials; the policy is checked again when the ticket is redeemed.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionTicketView } from '../../../shared/src/api.js';
import { GatewayError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../log.js';
import type { ConnectionKind, TicketBook } from '../connections/tickets.js';
import { kindAvailability, type ConnectionEndpoints } from '../connections/endpoints.js';
import { REFUSAL_MESSAGES } from '../policy/remote-access.js';
import { loadBuildStanding } from './build-access.js';

export interface TicketMintingDeps {
  readonly store: Store;
  readonly tickets: TicketBook;
  readonly endpoints: ConnectionEndpoints;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface TicketWish {
  readonly userId: UserId;
  /** null: the request named no valid build id, which answers like an unknown build. */
  readonly buildId: BuildId | null;
  readonly kind: ConnectionKind;
  readonly viewOnly: boolean;
  /** The page's origin, which the WebSocket upgrade must present. */
  readonly origin: string;
  /** How the page proved who it is, for the log. */
  readonly via: 'session' | 'embed';
}

export async function mintConnectionTicket(deps: TicketMintingDeps, wish: TicketWish): Promise<ConnectionTicketView> {
  const { userId, kind, via } = wish;
  const standing = wish.buildId === null ? null : await loadBuildStanding(deps.store, wish.buildId, userId, deps.now());
  const refuse = (reason: string): void => {
    deps.logger.info({ event: 'ticket_refused', userId, buildId: wish.buildId, kind, via, reason }, 'ticket refused');
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
  const minted = deps.tickets.mint({ userId, buildId: standing.build.id, kind, origin: wish.origin, viewOnly: wish.viewOnly });
  if (!minted.ok) {
    refuse('too_many_tickets');
    throw new GatewayError('rate_limited', 'Too many connections are starting at once. Try again in a few seconds.');
  }
  deps.logger.info({ event: 'ticket_minted', userId, buildId: standing.build.id, kind, via }, 'ticket minted');
  return {
    ticket: minted.value.ticket,
    url: deps.endpoints.webSocketUrl(kind, standing.build.id),
    protocol: deps.endpoints.subprotocol(kind),
    expiresAt: minted.value.expiresAt.toISOString(),
  };
}
