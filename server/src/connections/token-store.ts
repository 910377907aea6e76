/**
 * Where bearer tokens (tickets, embed launches, embed credentials) are kept: in this process's
 * memory for one node (hashed-tokens.ts), or in PostgreSQL for several (../cluster/pg-token-vault.ts),
 * so that a token issued by one node is honoured by any. Async for the second.
 */
import type { Result } from '../../../shared/src/result.js';
import { HashedTokenMap, type Expiring, type TokenLookup } from './hashed-tokens.js';

export interface TokenStore<T extends Expiring> {
  /** A new random token for `claims`; refused when the store is full. */
  issue(claims: T): Promise<Result<string, 'full'>>;
  /** Single use: at most one caller, ever, gets the claims. */
  take(token: string): Promise<TokenLookup<T>>;
  /** Many uses until it expires. */
  peek(token: string): Promise<TokenLookup<T>>;
  dispose(): void;
}

/** One node's tokens, in memory; `maxRecords` bounds how many are outstanding. */
export function memoryTokenStore<T extends Expiring>(now: () => Date, maxRecords: number): TokenStore<T> {
  const map = new HashedTokenMap<T>(now, maxRecords);
  return {
    issue: async (claims) => map.issue(claims),
    take: async (token) => map.take(token),
    peek: async (token) => map.peek(token),
    dispose: () => map.dispose(),
  };
}
