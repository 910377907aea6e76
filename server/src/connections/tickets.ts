/**
 * Connection tickets: short-lived, single-use bearer strings that let a WebSocket upgrade prove
 * who asked for which connection. Only a hash of each ticket is kept, so a heap dump or debug log
 * of this map cannot be replayed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BuildId, UserId } from '../../../shared/src/ids.js';

export type ConnectionKind = 'ssh' | 'vnc';

/** 32 random bytes: far beyond the 128 bits a guesser would need to beat within 30 s. */
const TICKET_BYTES = 32;
/** Long enough for a page to open its WebSocket on a slow link, short enough to be useless later. */
export const TICKET_TTL_MS = 30_000;
/** Expired tickets are swept this often so an idle gateway does not keep them. */
const SWEEP_INTERVAL_MS = 60_000;

export interface TicketClaims {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  /** The Origin of the page that asked; the upgrade must come from the same one. */
  readonly origin: string;
  readonly viewOnly: boolean;
  readonly expiresAt: Date;
}

export interface MintedTicket {
  readonly ticket: string;
  readonly expiresAt: Date;
}

export type RedeemFailure = 'unknown_or_used' | 'expired';

export type Redemption = { ok: true; claims: TicketClaims } | { ok: false; reason: RedeemFailure };

/** Async so tickets can live in a database shared by several nodes (../cluster/pg-tickets.ts). */
export interface TicketBook {
  mint(claims: Omit<TicketClaims, 'expiresAt'>): Promise<MintedTicket>;
  /** Atomically consumes the ticket: at most one caller ever gets its claims. */
  redeem(ticket: string): Promise<Redemption>;
  dispose(): void;
}

/** Tickets for a single gateway node, kept in memory. */
export class MemoryTicketBook implements TicketBook {
  readonly #tickets = new Map<string, TicketClaims>();
  readonly #now: () => Date;
  readonly #sweep: NodeJS.Timeout;

  constructor(now: () => Date) {
    this.#now = now;
    this.#sweep = setInterval(() => this.#sweepExpired(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  async mint(claims: Omit<TicketClaims, 'expiresAt'>): Promise<MintedTicket> {
    const ticket = randomBytes(TICKET_BYTES).toString('base64url');
    const expiresAt = new Date(this.#now().getTime() + TICKET_TTL_MS);
    this.#tickets.set(digest(ticket), { ...claims, expiresAt });
    return { ticket, expiresAt };
  }

  async redeem(ticket: string): Promise<Redemption> {
    const key = digest(ticket);
    const claims = this.#tickets.get(key);
    if (!claims) return { ok: false, reason: 'unknown_or_used' };
    this.#tickets.delete(key);
    if (claims.expiresAt.getTime() <= this.#now().getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }

  dispose(): void {
    clearInterval(this.#sweep);
    this.#tickets.clear();
  }

  #sweepExpired(): void {
    const now = this.#now().getTime();
    for (const [key, claims] of this.#tickets) if (claims.expiresAt.getTime() <= now) this.#tickets.delete(key);
  }
}

function digest(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}
