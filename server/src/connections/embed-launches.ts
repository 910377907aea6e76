/**
 * Embed launch tokens: what a dashboard's backend gets from `POST /api/v1/embed-sessions` and puts
 * in the iframe's URL. Single use and short-lived, bound to one user, build, kind and parent
 * origin; the embed page exchanges it once for a credential (embed-credentials.ts).
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { EmbedKind } from '../../../shared/src/embed.js';
import type { Result } from '../../../shared/src/result.js';
import { HashedTokenMap, type TokenLookup } from './hashed-tokens.js';

/** The dashboard mints one as it renders the iframe, which loads within seconds; 60 s covers slow links. */
export const EMBED_LAUNCH_TTL_MS = 60_000;
/** Launches are minted by trusted backends; this only caps memory if one misbehaves. */
const MAX_LIVE_LAUNCHES = 10_000;

export interface LaunchClaims {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: EmbedKind;
  /** The only origin that may frame the embed page and receive its messages. */
  readonly parentOrigin: string;
  readonly viewOnly: boolean;
  readonly expiresAt: Date;
}

export class EmbedLaunchBook {
  readonly #launches: HashedTokenMap<LaunchClaims>;
  readonly #now: () => Date;

  constructor(now: () => Date) {
    this.#now = now;
    this.#launches = new HashedTokenMap(now, MAX_LIVE_LAUNCHES);
  }

  mint(claims: Omit<LaunchClaims, 'expiresAt'>): Result<{ readonly token: string; readonly expiresAt: Date }, 'full'> {
    const expiresAt = new Date(this.#now().getTime() + EMBED_LAUNCH_TTL_MS);
    const issued = this.#launches.issue({ ...claims, expiresAt });
    return issued.ok ? { ok: true, value: { token: issued.value, expiresAt } } : issued;
  }

  /** Consumes the launch whatever happens next: a launch presented wrongly is burnt, not retried. */
  redeem(token: string): TokenLookup<LaunchClaims> {
    return this.#launches.take(token);
  }

  dispose(): void {
    this.#launches.dispose();
  }
}
