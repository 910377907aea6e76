/**
 * Bearer tokens the gateway hands out (connection tickets, embed launch tokens, embed credentials)
 * and what each one grants. Only a SHA-256 digest of each token is kept, so a heap dump or a debug
 * log of the map cannot be replayed. The map is bounded: when full, issuing fails instead of
 * memory growing, and expired records are swept on a timer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { err, ok, type Result } from '../../../shared/src/result.js';

/** 32 random bytes: far beyond the 128 bits a guesser would need, whatever the lifetime. */
const TOKEN_BYTES = 32;
/** Expired records are swept this often so an idle gateway does not keep them. */
const SWEEP_INTERVAL_MS = 60_000;

export interface Expiring {
  readonly expiresAt: Date;
}

export type TokenLookupFailure = 'unknown_or_used' | 'expired';
export type TokenLookup<T> = { readonly ok: true; readonly claims: T } | { readonly ok: false; readonly reason: TokenLookupFailure };

export class HashedTokenMap<T extends Expiring> {
  readonly #records = new Map<string, T>();
  readonly #now: () => Date;
  readonly #maxRecords: number;
  readonly #sweep: NodeJS.Timeout;

  /** `maxRecords`: how many live tokens of this kind the gateway holds at most. */
  constructor(now: () => Date, maxRecords: number) {
    this.#now = now;
    this.#maxRecords = maxRecords;
    this.#sweep = setInterval(() => this.#sweepExpired(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  /** A new random token for `claims`; refused when the map is full even after sweeping. */
  issue(claims: T): Result<string, 'full'> {
    if (this.#records.size >= this.#maxRecords) this.#sweepExpired();
    if (this.#records.size >= this.#maxRecords) return err('full');
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    this.#records.set(digest(token), claims);
    return ok(token);
  }

  /** Single use: atomically removes the token, so at most one caller ever gets its claims. */
  take(token: string): TokenLookup<T> {
    const key = digest(token);
    const claims = this.#records.get(key);
    if (!claims) return { ok: false, reason: 'unknown_or_used' };
    this.#records.delete(key);
    return this.#isExpired(claims) ? { ok: false, reason: 'expired' } : { ok: true, claims };
  }

  /** Many uses until it expires; an expired record is dropped on the way. */
  peek(token: string): TokenLookup<T> {
    const key = digest(token);
    const claims = this.#records.get(key);
    if (!claims) return { ok: false, reason: 'unknown_or_used' };
    if (this.#isExpired(claims)) {
      this.#records.delete(key);
      return { ok: false, reason: 'expired' };
    }
    return { ok: true, claims };
  }

  get size(): number {
    return this.#records.size;
  }

  dispose(): void {
    clearInterval(this.#sweep);
    this.#records.clear();
  }

  #isExpired(claims: T): boolean {
    return claims.expiresAt.getTime() <= this.#now().getTime();
  }

  #sweepExpired(): void {
    for (const [key, claims] of this.#records) if (this.#isExpired(claims)) this.#records.delete(key);
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
