/**
 * Bearer tokens (connection tickets, embed launches and credentials) shared by every node through
 * PostgreSQL, so a token issued by one node is honoured by any other. Only the SHA-256 digest is
 * stored. A single-use token is taken with `DELETE … RETURNING`: PostgreSQL lets exactly one of
 * any number of concurrent deletes of a row return it, on whichever nodes they run.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ok, type Result } from '../../../shared/src/result.js';
import { asStoreError } from '../store/postgres/pg-errors.js';
import type { Expiring, TokenLookup } from '../connections/hashed-tokens.js';
import type { TokenStore } from '../connections/token-store.js';

/** 32 random bytes, as for in-memory tokens. */
const TOKEN_BYTES = 32;
/** Expired rows are deleted this often (by every node; the delete is idempotent). */
const SWEEP_INTERVAL_MS = 60_000;


/** How a kind of claims travels through JSON (times become epoch milliseconds). */
export interface ClaimsCodec<T extends Expiring> {
  encode(claims: T): string;
  decode(json: string): T | null;
}

export class PostgresTokenVault<T extends Expiring> implements TokenStore<T> {
  readonly #pool: pg.Pool;
  readonly #kind: string;
  readonly #codec: ClaimsCodec<T>;
  readonly #now: () => Date;
  readonly #sweep: NodeJS.Timeout;

  /** `kind` keeps the kinds apart: a ticket is never accepted as a launch token. */
  constructor(pool: pg.Pool, kind: string, codec: ClaimsCodec<T>, now: () => Date) {
    this.#pool = pool;
    this.#kind = kind;
    this.#codec = codec;
    this.#now = now;
    this.#sweep = setInterval(() => {
      this.#pool.query('DELETE FROM bearer_tokens WHERE kind = $1 AND expires_at <= $2', [this.#kind, this.#now()]).catch(() => undefined);
    }, SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  async issue(claims: T): Promise<Result<string, 'full'>> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    await this.#query('INSERT INTO bearer_tokens (kind, digest, claims, expires_at) VALUES ($1, $2, $3, $4)', [
      this.#kind,
      digest(token),
      this.#codec.encode(claims),
      claims.expiresAt,
    ]);
    return ok(token);
  }

  /** Single use: at most one caller, on any node, ever gets the claims. */
  async take(token: string): Promise<TokenLookup<T>> {
    const rows = await this.#query('DELETE FROM bearer_tokens WHERE kind = $1 AND digest = $2 RETURNING claims', [this.#kind, digest(token)]);
    return this.#lookup(rows[0]?.claims ?? null);
  }

  /** Many uses until it expires. */
  async peek(token: string): Promise<TokenLookup<T>> {
    const rows = await this.#query('SELECT claims FROM bearer_tokens WHERE kind = $1 AND digest = $2', [this.#kind, digest(token)]);
    return this.#lookup(rows[0]?.claims ?? null);
  }

  dispose(): void {
    clearInterval(this.#sweep);
  }

  #lookup(json: string | null): TokenLookup<T> {
    const claims = json === null ? null : this.#codec.decode(json);
    if (!claims) return { ok: false, reason: 'unknown_or_used' };
    return claims.expiresAt.getTime() <= this.#now().getTime() ? { ok: false, reason: 'expired' } : { ok: true, claims };
  }

  async #query(sql: string, params: readonly unknown[]): Promise<{ claims: string }[]> {
    try {
      return (await this.#pool.query<{ claims: string }>(sql, [...params])).rows;
    } catch (error) {
      throw asStoreError(error);
    }
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
