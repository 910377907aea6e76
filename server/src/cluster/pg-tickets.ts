/**
 * The bearer tokens of several nodes, in PostgreSQL: connection tickets, embed launch tokens and
 * embed credentials, each a kind of its own in `bearer_tokens`. Claims travel as JSON of ids,
 * flags and epoch-millisecond times, checked on the way back.
 */
import type pg from 'pg';
import { z } from 'zod';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import { CONNECTION_KINDS } from '../../../shared/src/protocol/kinds.js';
import { ticketKind, type TicketClaims } from '../connections/tickets.js';
import { EMBED_LAUNCH_KIND, type LaunchClaims } from '../connections/embed-launches.js';
import { EMBED_CREDENTIAL_KIND, type EmbedCredentialClaims } from '../connections/embed-credentials.js';
import type { TokenStore } from '../connections/token-store.js';
import { PostgresTokenVault, type ClaimsCodec } from './pg-token-vault.js';

const common = { userId: z.string(), buildId: z.string(), kind: z.enum(CONNECTION_KINDS), viewOnly: z.boolean(), sessionEpoch: z.string(), expiresAt: z.number() };
const ticketJson = z.object({ ...common, origin: z.string(), signInId: z.string().nullable(), sessionId: z.string().nullable().default(null), watch: z.boolean().default(false) });
const embedJson = z.object({ ...common, parentOrigin: z.string(), watchSessionId: z.string().nullable().default(null) });

function codec<T extends { readonly expiresAt: Date; readonly userId: UserId; readonly buildId: BuildId }, S extends z.ZodType<{ expiresAt: number; userId: string; buildId: string }>>(
  schema: S,
  revive: (parsed: z.infer<S>) => T,
): ClaimsCodec<T> {
  return {
    encode: (claims) => JSON.stringify({ ...claims, expiresAt: claims.expiresAt.getTime() }),
    decode: (json) => {
      const parsed = schema.safeParse(JSON.parse(json));
      return parsed.success ? revive(parsed.data) : null;
    },
  };
}

const ids = (c: { userId: string; buildId: string; expiresAt: number }): { userId: UserId; buildId: BuildId; expiresAt: Date } => ({
  userId: c.userId as UserId,
  buildId: c.buildId as BuildId,
  expiresAt: new Date(c.expiresAt),
});

export const TICKET_CODEC = codec<TicketClaims, typeof ticketJson>(ticketJson, (c) => ({ ...c, ...ids(c) }));
export const LAUNCH_CODEC = codec<LaunchClaims, typeof embedJson>(embedJson, (c) => ({ ...c, ...ids(c) }));
export const EMBED_CREDENTIAL_CODEC = codec<EmbedCredentialClaims, typeof embedJson>(embedJson, (c) => ({ ...c, ...ids(c) }));

export interface SharedTokenStores {
  readonly tickets: TokenStore<TicketClaims>;
  readonly launches: TokenStore<LaunchClaims>;
  readonly credentials: TokenStore<EmbedCredentialClaims>;
}

export interface SharedTokenLimits {
  /** Outstanding tickets one user may hold (ticketsPerUser of PORTHOLE_MAX_CONNECTIONS_PER_USER). */
  readonly ticketsPerUser: number;
}

/** The same bounds as the in-memory stores, held across every node. */
export function postgresTokenStores(pool: pg.Pool, now: () => Date, limits: SharedTokenLimits): SharedTokenStores {
  return {
    tickets: new PostgresTokenVault(pool, 'connection_ticket', TICKET_CODEC, now, ticketKind(limits.ticketsPerUser)),
    launches: new PostgresTokenVault(pool, 'embed_launch', LAUNCH_CODEC, now, EMBED_LAUNCH_KIND),
    credentials: new PostgresTokenVault(pool, 'embed_credential', EMBED_CREDENTIAL_CODEC, now, EMBED_CREDENTIAL_KIND),
  };
}
