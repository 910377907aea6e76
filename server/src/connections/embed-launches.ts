/**
 * Embed launch tokens: what a dashboard's backend gets from `POST /api/v1/embed-sessions` and puts
 * in the iframe's URL. Single use and short-lived, bound to one user, build, kind and parent
 * origin; the embed page exchanges it once for a credential (embed-credentials.ts).
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { EmbedKind } from '../../../shared/src/embed.js';
import type { Result } from '../../../shared/src/result.js';
import type { IssueFailure, TokenLookup } from './hashed-tokens.js';
import { memoryTokenStore, type PerUserLimit, type TokenStore } from './token-store.js';

/** The dashboard mints one as it renders the iframe, which loads within seconds; 60 s covers slow links. */
export const EMBED_LAUNCH_TTL_MS = 60_000;
/** Launches are minted by trusted backends; this only caps memory if one misbehaves. */
export const MAX_LIVE_LAUNCHES = 10_000;
/**
 * A dashboard mints one launch per embedded view it renders, used within seconds; a user with this
 * many unopened in 60 s is a backend in a loop, and must not fill the table for everyone else.
 */
export const LAUNCHES_PER_USER: PerUserLimit = { max: 50, whenFull: 'refuse' };

export interface LaunchClaims {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: EmbedKind;
  /** The only origin that may frame the embed page and receive its messages. */
  readonly parentOrigin: string;
  readonly viewOnly: boolean;
  /** The user's session epoch at launch: a password change or deletion since then burns the launch. */
  readonly sessionEpoch: string;
  readonly expiresAt: Date;
}

export class EmbedLaunchBook {
  readonly #launches: TokenStore<LaunchClaims>;
  readonly #now: () => Date;

  constructor(now: () => Date, launches: TokenStore<LaunchClaims> = memoryTokenStore(now, MAX_LIVE_LAUNCHES, LAUNCHES_PER_USER)) {
    this.#now = now;
    this.#launches = launches;
  }

  async mint(claims: Omit<LaunchClaims, 'expiresAt'>): Promise<Result<{ readonly token: string; readonly expiresAt: Date }, IssueFailure>> {
    const expiresAt = new Date(this.#now().getTime() + EMBED_LAUNCH_TTL_MS);
    const issued = await this.#launches.issue({ ...claims, expiresAt });
    return issued.ok ? { ok: true, value: { token: issued.value, expiresAt } } : issued;
  }

  /** Consumes the launch whatever happens next: a launch presented wrongly is burnt, not retried. */
  async redeem(token: string): Promise<TokenLookup<LaunchClaims>> {
    return await this.#launches.take(token);
  }

  dispose(): void {
    this.#launches.dispose();
  }
}
