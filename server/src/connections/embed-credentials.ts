/**
 * Embed credentials: what an embed page holds in memory, instead of a cookie, to mint connection
 * tickets for the one build, kind and parent origin its launch named. Many uses, but never past
 * the build's window close and never longer than a working session; the access policy is checked
 * again on every use, so a revoked role or a closed window stops it at once.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { EmbedKind } from '../../../shared/src/embed.js';
import type { Result } from '../../../shared/src/result.js';
import { HashedTokenMap, type TokenLookup } from './hashed-tokens.js';

/** Like a sign-in: a working day; an embed left open overnight reconnects only through a new launch. */
export const EMBED_CREDENTIAL_MAX_TTL_MS = 12 * 60 * 60 * 1000;
/** One per open embed page; far above what one node serves, and a cap on memory if something loops. */
const MAX_LIVE_CREDENTIALS = 10_000;

export interface EmbedCredentialClaims {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: EmbedKind;
  readonly parentOrigin: string;
  readonly viewOnly: boolean;
  readonly expiresAt: Date;
}

export class EmbedCredentialBook {
  readonly #credentials: HashedTokenMap<EmbedCredentialClaims>;
  readonly #now: () => Date;

  constructor(now: () => Date) {
    this.#now = now;
    this.#credentials = new HashedTokenMap(now, MAX_LIVE_CREDENTIALS);
  }

  /** `closesAt`: the build's window close, if set; the credential dies with the window. */
  issue(
    claims: Omit<EmbedCredentialClaims, 'expiresAt'>,
    closesAt: Date | null,
  ): Result<{ readonly credential: string; readonly expiresAt: Date }, 'full'> {
    const cap = this.#now().getTime() + EMBED_CREDENTIAL_MAX_TTL_MS;
    const expiresAt = new Date(closesAt === null ? cap : Math.min(cap, closesAt.getTime()));
    const issued = this.#credentials.issue({ ...claims, expiresAt });
    return issued.ok ? { ok: true, value: { credential: issued.value, expiresAt } } : issued;
  }

  check(credential: string): TokenLookup<EmbedCredentialClaims> {
    return this.#credentials.peek(credential);
  }

  dispose(): void {
    this.#credentials.dispose();
  }
}
