/**
 * Connection tickets: short-lived, single-use bearer strings that let a WebSocket upgrade prove
 * who asked for which connection. Kept hashed (hashed-tokens.ts).
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import { TokenBook, type TokenKind } from './token-book.js';
import type { TokenStore } from './token-store.js';

/** Long enough for a page to open its WebSocket on a slow link, short enough to be useless later. */
export const TICKET_TTL_MS = 30_000;
/**
 * Far more connections than one node starts within a ticket's 30 s; a backstop on memory (each
 * record is a few hundred bytes) now that one user is held to their own share below.
 */
export const MAX_LIVE_TICKETS = 10_000;
/**
 * Outstanding (minted, not yet redeemed) tickets per user, per connection they may hold
 * (PORTHOLE_MAX_CONNECTIONS_PER_USER): a page opening, a reconnect and a retry each hold one for
 * a few seconds; more than this many at once is a loop, not a person.
 */
export const TICKETS_PER_CONNECTION_SLOT = 5;

export interface TicketClaims {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  /** The Origin of the page that asked; the upgrade must come from the same one. */
  readonly origin: string;
  readonly viewOnly: boolean;
  /** The user's session epoch at mint; the upgrade refuses the ticket once it has changed. */
  readonly sessionEpoch: string;
  /** The sign-in session that minted it (../auth/sign-in-id.ts); null for embed pages, which have none. */
  readonly signInId: string | null;
  /** The held terminal session this ticket resumes (../sessions/session-directory.ts); null opens a new one. */
  readonly sessionId: string | null;
  /** With sessionId: join that session (another member's, on this build) as a watcher, not resume it. */
  readonly watch: boolean;
  readonly expiresAt: Date;
}

/** Tickets for users who may each hold `ticketsPerUser` outstanding at once (see TICKETS_PER_CONNECTION_SLOT). */
export function ticketKind(ticketsPerUser: number): TokenKind {
  // Refused beyond the user's share, since a page asks again in a moment.
  return { ttlMs: TICKET_TTL_MS, maxRecords: MAX_LIVE_TICKETS, perUser: { max: ticketsPerUser, whenFull: 'refuse' }, uses: 'once' };
}

/** Redeeming consumes the ticket: at most one caller (on any node) ever gets its claims. */
export class TicketBook extends TokenBook<Omit<TicketClaims, 'expiresAt'>> {
  /** `store`: PostgreSQL for several nodes, made with the same ticketKind. */
  constructor(now: () => Date, ticketsPerUser: number, store?: TokenStore<TicketClaims>) {
    super(now, ticketKind(ticketsPerUser), store);
  }
}
