/**
 * What every kind of bearer token the gateway hands out (connection tickets, embed launches, embed
 * credentials) does the same way: it is minted for a grant with a lifetime of its kind, kept in a
 * token store (this node's memory, or PostgreSQL for several nodes) within the kind's bounds, and
 * redeemed once or until it expires. Each kind is a TokenKind and a thin subclass naming its grant.
 */
import type { Result } from '../../../shared/src/result.js';
import type { Expiring, IssueFailure, TokenLookup } from './hashed-tokens.js';
import { memoryTokenStore, type TokenLimits, type TokenStore } from './token-store.js';

export interface TokenKind extends TokenLimits {
  /** How long a token lives from minting, in milliseconds. */
  readonly ttlMs: number;
  /** `once`: redeeming uses it up, on any node; `until_expiry`: it may be redeemed again and again. */
  readonly uses: 'once' | 'until_expiry';
}

/** What a token stands for, before the book sets its expiry. */
export interface Grant {
  /** The user it lets in, who owns it against the per-user bound. */
  readonly userId: string;
}

export interface MintedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

export class TokenBook<G extends Grant> {
  readonly #now: () => Date;
  readonly #kind: TokenKind;
  readonly #store: TokenStore<G & Expiring>;

  /** `store`: another store than this node's memory (PostgreSQL), which holds the kind's bounds itself. */
  constructor(now: () => Date, kind: TokenKind, store: TokenStore<G & Expiring> = memoryTokenStore(now, kind)) {
    this.#now = now;
    this.#kind = kind;
    this.#store = store;
  }

  /**
   * Fails only when too many tokens of the kind are live: for this user, or in all. `notAfter`: a
   * time the token must not outlive, though its kind's lifetime would (a build's window closing).
   */
  async mint(grant: G, notAfter: Date | null = null): Promise<Result<MintedToken, IssueFailure>> {
    const lifetimeEnd = this.#now().getTime() + this.#kind.ttlMs;
    const expiresAt = new Date(notAfter === null ? lifetimeEnd : Math.min(lifetimeEnd, notAfter.getTime()));
    const issued = await this.#store.issue({ ...grant, expiresAt });
    return issued.ok ? { ok: true, value: { token: issued.value, expiresAt } } : issued;
  }

  /** The token's claims if it is live; a single-use token is consumed whatever the caller does next. */
  async redeem(token: string): Promise<TokenLookup<G & Expiring>> {
    return this.#kind.uses === 'once' ? await this.#store.take(token) : await this.#store.peek(token);
  }

  dispose(): void {
    this.#store.dispose();
  }
}
