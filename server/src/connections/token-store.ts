/**
 * Where bearer tokens (tickets, embed launches, embed credentials) are kept: in this process's
 * memory for one node (hashed-tokens.ts), or in PostgreSQL for several (../cluster/pg-token-vault.ts),
 * so that a token issued by one node is honoured by any. Async for the second.
 */
import type { Result } from '../../../shared/src/result.js';
import { HashedTokenMap, type Expiring, type IssueFailure, type OwnerLimit, type TokenLookup } from './hashed-tokens.js';

export interface TokenStore<T extends Expiring> {
  /** A new random token for `claims`; refused when its owner holds too many, or the store is full. */
  issue(claims: T): Promise<Result<string, IssueFailure>>;
  /** Single use: at most one caller, ever, gets the claims. */
  take(token: string): Promise<TokenLookup<T>>;
  /** Many uses until it expires. */
  peek(token: string): Promise<TokenLookup<T>>;
  dispose(): void;
}

/** Every kind of token is held by the user it lets in. */
export interface UserOwned extends Expiring {
  readonly userId: string;
}

/** The per-user bound of a kind of token (see OwnerLimit). */
export interface PerUserLimit {
  readonly max: number;
  readonly whenFull: OwnerLimit<UserOwned>['whenFull'];
}

/** The bounds of one kind of token, the same in memory and in PostgreSQL. */
export interface TokenLimits {
  /** Live tokens of the kind at most: a backstop on memory (or table size) if something loops. */
  readonly maxRecords: number;
  readonly perUser: PerUserLimit;
}

/** One node's tokens, in memory; at most `maxRecords` in all and `perUser.max` for each user. */
export function memoryTokenStore<T extends UserOwned>(now: () => Date, { maxRecords, perUser }: TokenLimits): TokenStore<T> {
  const map = new HashedTokenMap<T>(now, maxRecords, { ownerOf: (claims) => claims.userId, ...perUser });
  return {
    issue: async (claims) => map.issue(claims),
    take: async (token) => map.take(token),
    peek: async (token) => map.peek(token),
    dispose: () => map.dispose(),
  };
}
