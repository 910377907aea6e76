/**
 * Connection tickets: short-lived, single-use bearer strings that let a WebSocket upgrade prove
 * who asked for which connection. Kept hashed (hashed-tokens.ts).
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { Result } from '../../../shared/src/result.js';
import type { TokenLookupFailure } from './hashed-tokens.js';
import { memoryTokenStore, type TokenStore } from './token-store.js';

export type ConnectionKind = 'ssh' | 'vnc';

/** Long enough for a page to open its WebSocket on a slow link, short enough to be useless later. */
export const TICKET_TTL_MS = 30_000;
/**
 * Far more connections than one node starts within a ticket's 30 s; a page minting in a loop hits
 * this instead of the heap (each record is a few hundred bytes).
 */
export const MAX_LIVE_TICKETS = 10_000;

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
  readonly expiresAt: Date;
}

export interface MintedTicket {
  readonly ticket: string;
  readonly expiresAt: Date;
}

export type RedeemFailure = TokenLookupFailure;

export interface TicketBook {
  /** Fails only when too many tickets are outstanding. */
  mint(claims: Omit<TicketClaims, 'expiresAt'>): Promise<Result<MintedTicket, 'full'>>;
  /** Atomically consumes the ticket: at most one caller (on any node) ever gets its claims. */
  redeem(ticket: string): Promise<{ ok: true; claims: TicketClaims } | { ok: false; reason: RedeemFailure }>;
  dispose(): void;
}

/** Tickets kept in a token store: this node's memory by default, PostgreSQL for several nodes. */
export class StoredTicketBook implements TicketBook {
  readonly #tickets: TokenStore<TicketClaims>;
  readonly #now: () => Date;

  constructor(now: () => Date, tickets: TokenStore<TicketClaims> = memoryTokenStore(now, MAX_LIVE_TICKETS)) {
    this.#now = now;
    this.#tickets = tickets;
  }

  async mint(claims: Omit<TicketClaims, 'expiresAt'>): Promise<Result<MintedTicket, 'full'>> {
    const expiresAt = new Date(this.#now().getTime() + TICKET_TTL_MS);
    const issued = await this.#tickets.issue({ ...claims, expiresAt });
    return issued.ok ? { ok: true, value: { ticket: issued.value, expiresAt } } : issued;
  }

  async redeem(ticket: string): Promise<{ ok: true; claims: TicketClaims } | { ok: false; reason: RedeemFailure }> {
    return await this.#tickets.take(ticket);
  }

  dispose(): void {
    this.#tickets.dispose();
  }
}
