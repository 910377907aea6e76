/**
 * Connection tickets in PostgreSQL, for several nodes: minted through one node, redeemable once
 * through any (see ./pg-token-vault.ts for why exactly once).
 */
import type pg from 'pg';
import { z } from 'zod';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import { TICKET_TTL_MS, type MintedTicket, type Redemption, type TicketBook, type TicketClaims } from '../connections/tickets.js';
import { PostgresTokenVault, type ClaimsCodec } from './pg-token-vault.js';

const ticketJson = z.object({
  userId: z.string(),
  buildId: z.string(),
  kind: z.enum(['ssh', 'vnc']),
  origin: z.string(),
  viewOnly: z.boolean(),
  expiresAt: z.number(),
});

export const TICKET_CODEC: ClaimsCodec<TicketClaims> = {
  encode: (claims) => JSON.stringify({ ...claims, expiresAt: claims.expiresAt.getTime() }),
  decode: (json) => {
    const parsed = ticketJson.safeParse(JSON.parse(json));
    if (!parsed.success) return null;
    const c = parsed.data;
    return { userId: c.userId as UserId, buildId: c.buildId as BuildId, kind: c.kind, origin: c.origin, viewOnly: c.viewOnly, expiresAt: new Date(c.expiresAt) };
  },
};

export class PostgresTicketBook implements TicketBook {
  readonly #vault: PostgresTokenVault<TicketClaims>;
  readonly #now: () => Date;

  constructor(pool: pg.Pool, now: () => Date) {
    this.#now = now;
    this.#vault = new PostgresTokenVault(pool, 'connection_ticket', TICKET_CODEC, now);
  }

  async mint(claims: Omit<TicketClaims, 'expiresAt'>): Promise<MintedTicket> {
    const expiresAt = new Date(this.#now().getTime() + TICKET_TTL_MS);
    const issued = await this.#vault.issue({ ...claims, expiresAt });
    if (!issued.ok) throw new Error('ticket vault full');
    return { ticket: issued.value, expiresAt };
  }

  async redeem(ticket: string): Promise<Redemption> {
    return await this.#vault.take(ticket);
  }

  dispose(): void {
    this.#vault.dispose();
  }
}
