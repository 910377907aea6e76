/**
 * Bearer tokens (connection tickets, embed launches and credentials) shared by every node through
 * PostgreSQL, so a token issued by one node is honoured by any other. Only the SHA-256 digest is
 * stored. A single-use token is taken with `DELETE … RETURNING`: PostgreSQL lets exactly one of
 * any number of concurrent deletes of a row return it, on whichever nodes they run.
 *
 * Issuing holds to the same bounds as in memory, across every node: each user's share is counted
 * under a transaction-scoped advisory lock on (kind, user), so concurrent issues for one user on
 * any number of nodes take turns and never exceed it. The total is a backstop, counted without a
 * lock: concurrent issues for different users may overshoot it by the few in flight.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { asStoreError } from '../store/postgres/pg-errors.js';
import type { IssueFailure, TokenLookup } from '../connections/hashed-tokens.js';
import type { TokenLimits, TokenStore, UserOwned } from '../connections/token-store.js';

/** 32 random bytes, as for in-memory tokens. */
const TOKEN_BYTES = 32;
/** Expired rows are deleted this often (by every node; the delete is idempotent). */
const SWEEP_INTERVAL_MS = 60_000;


/** How a kind of claims travels through JSON (times become epoch milliseconds). */
export interface ClaimsCodec<T extends UserOwned> {
  encode(claims: T): string;
  decode(json: string): T | null;
}

export class PostgresTokenVault<T extends UserOwned> implements TokenStore<T> {
  readonly #pool: pg.Pool;
  readonly #kind: string;
  readonly #codec: ClaimsCodec<T>;
  readonly #now: () => Date;
  readonly #limits: TokenLimits;
  readonly #sweep: NodeJS.Timeout;

  /** `kind` keeps the kinds apart: a ticket is never accepted as a launch token. */
  constructor(pool: pg.Pool, kind: string, codec: ClaimsCodec<T>, now: () => Date, limits: TokenLimits) {
    this.#pool = pool;
    this.#kind = kind;
    this.#codec = codec;
    this.#now = now;
    this.#limits = limits;
    this.#sweep = setInterval(() => {
      this.#pool.query('DELETE FROM bearer_tokens WHERE kind = $1 AND expires_at <= $2', [this.#kind, this.#now()]).catch(() => undefined);
    }, SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  async issue(claims: T): Promise<Result<string, IssueFailure>> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const { maxRecords, perUser } = this.#limits;
    const kind = this.#kind;
    const owner = claims.userId;
    const now = this.#now();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw asStoreError(error);
    }
    try {
      await client.query('BEGIN');
      // Held until COMMIT/ROLLBACK: one issue at a time per (kind, user), on every node.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [kind, owner]);
      const held = await count(client, 'SELECT count(*) AS n FROM bearer_tokens WHERE kind = $1 AND owner = $2 AND expires_at > $3', [kind, owner, now]);
      if (held >= perUser.max) {
        if (perUser.whenFull === 'refuse') {
          await client.query('ROLLBACK');
          return err('owner_full');
        }
        // The user's tokens that expire first go, leaving room for exactly this one.
        await client.query(
          `DELETE FROM bearer_tokens WHERE kind = $1 AND digest IN (
             SELECT digest FROM bearer_tokens WHERE kind = $1 AND owner = $2 AND expires_at > $3 ORDER BY expires_at LIMIT $4)`,
          [kind, owner, now, held - perUser.max + 1],
        );
      }
      if ((await count(client, 'SELECT count(*) AS n FROM bearer_tokens WHERE kind = $1 AND expires_at > $2', [kind, now])) >= maxRecords) {
        await client.query('ROLLBACK');
        return err('full');
      }
      await client.query('INSERT INTO bearer_tokens (kind, digest, claims, expires_at, owner) VALUES ($1, $2, $3, $4, $5)', [
        kind,
        digest(token),
        this.#codec.encode(claims),
        claims.expiresAt,
        owner,
      ]);
      await client.query('COMMIT');
      return ok(token);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw asStoreError(error);
    } finally {
      client.release();
    }
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

async function count(client: pg.PoolClient, sql: string, params: readonly unknown[]): Promise<number> {
  const rows = (await client.query<{ n: string }>(sql, [...params])).rows;
  return Number(rows[0]?.n ?? 0);
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
