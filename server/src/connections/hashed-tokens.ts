/**
 * Bearer tokens the gateway hands out (connection tickets, embed launch tokens, embed credentials)
 * and what each one grants. Only a SHA-256 digest of each token is kept, so a heap dump or a debug
 * log of the map cannot be replayed. The map is bounded twice: per owner (a user), so that one
 * user cannot fill it for everyone, and in total, as a backstop on memory. Expired records are
 * swept on a timer.
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

/** `full`: the whole map is; `owner_full`: this owner holds as many as it may. */
export type IssueFailure = 'full' | 'owner_full';

/** How many live tokens one owner may hold, and what happens to one more. */
export interface OwnerLimit<T> {
  readonly ownerOf: (claims: T) => string;
  readonly max: number;
  /**
   * `refuse`: the new token is refused (it is asked for again in a moment, e.g. a ticket);
   * `evict_oldest`: the owner's oldest token is dropped for it (a credential of a page long gone).
   */
  readonly whenFull: 'refuse' | 'evict_oldest';
}

interface Entry<T> {
  readonly claims: T;
  readonly owner: string | null;
}

export class HashedTokenMap<T extends Expiring> {
  readonly #records = new Map<string, Entry<T>>();
  /** Digests per owner, oldest first (a Set keeps insertion order). */
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #now: () => Date;
  readonly #maxRecords: number;
  readonly #ownerLimit: OwnerLimit<T> | null;
  readonly #sweep: NodeJS.Timeout;

  /** `maxRecords`: how many live tokens of this kind the gateway holds at most. */
  constructor(now: () => Date, maxRecords: number, ownerLimit: OwnerLimit<T> | null = null) {
    this.#now = now;
    this.#maxRecords = maxRecords;
    this.#ownerLimit = ownerLimit;
    this.#sweep = setInterval(() => this.#sweepExpired(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  /** A new random token for `claims`; refused when its owner, or the map, is full even after sweeping. */
  issue(claims: T): Result<string, IssueFailure> {
    const limit = this.#ownerLimit;
    const owner = limit ? limit.ownerOf(claims) : null;
    if (limit && owner !== null && this.#heldBy(owner) >= limit.max) {
      this.#sweepOwner(owner);
      const held = this.#byOwner.get(owner);
      if (held && held.size >= limit.max) {
        if (limit.whenFull === 'refuse') return err('owner_full');
        const [oldest] = held;
        if (oldest !== undefined) this.#delete(oldest);
      }
    }
    if (this.#records.size >= this.#maxRecords) this.#sweepExpired();
    if (this.#records.size >= this.#maxRecords) return err('full');
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const key = digest(token);
    this.#records.set(key, { claims, owner });
    if (owner !== null) {
      const held = this.#byOwner.get(owner) ?? new Set<string>();
      held.add(key);
      this.#byOwner.set(owner, held);
    }
    return ok(token);
  }

  /** Single use: atomically removes the token, so at most one caller ever gets its claims. */
  take(token: string): TokenLookup<T> {
    const key = digest(token);
    const entry = this.#records.get(key);
    if (!entry) return { ok: false, reason: 'unknown_or_used' };
    this.#delete(key);
    return this.#isExpired(entry.claims) ? { ok: false, reason: 'expired' } : { ok: true, claims: entry.claims };
  }

  /** Many uses until it expires; an expired record is dropped on the way. */
  peek(token: string): TokenLookup<T> {
    const key = digest(token);
    const entry = this.#records.get(key);
    if (!entry) return { ok: false, reason: 'unknown_or_used' };
    if (this.#isExpired(entry.claims)) {
      this.#delete(key);
      return { ok: false, reason: 'expired' };
    }
    return { ok: true, claims: entry.claims };
  }

  get size(): number {
    return this.#records.size;
  }

  dispose(): void {
    clearInterval(this.#sweep);
    this.#records.clear();
    this.#byOwner.clear();
  }

  #heldBy(owner: string): number {
    return this.#byOwner.get(owner)?.size ?? 0;
  }

  #delete(key: string): void {
    const entry = this.#records.get(key);
    if (!entry) return;
    this.#records.delete(key);
    if (entry.owner === null) return;
    const held = this.#byOwner.get(entry.owner);
    held?.delete(key);
    if (held?.size === 0) this.#byOwner.delete(entry.owner);
  }

  #isExpired(claims: T): boolean {
    return claims.expiresAt.getTime() <= this.#now().getTime();
  }

  /** An owner at the cap asking again costs at most the cap's worth of work, not a walk of every token. */
  #sweepOwner(owner: string): void {
    for (const key of [...(this.#byOwner.get(owner) ?? [])]) {
      const entry = this.#records.get(key);
      if (entry && this.#isExpired(entry.claims)) this.#delete(key);
    }
  }

  #sweepExpired(): void {
    for (const [key, entry] of this.#records) if (this.#isExpired(entry.claims)) this.#delete(key);
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
