/**
 * Embed credentials: what an embed page holds in memory, instead of a cookie, to mint connection
 * tickets for the one build, kind and parent origin its launch named. Many uses, but never past
 * the build's window close and never longer than a working session; the access policy is checked
 * again on every use, so a revoked role or a closed window stops it at once.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { EmbedKind } from '../../../shared/src/embed.js';
import { TokenBook, type TokenKind } from './token-book.js';
import type { PerUserLimit, TokenStore } from './token-store.js';

/** Like a sign-in: a working day; an embed left open overnight reconnects only through a new launch. */
export const EMBED_CREDENTIAL_MAX_TTL_MS = 12 * 60 * 60 * 1000;
/** One per open embed page; far above what one node serves, and a cap on memory if something loops. */
export const MAX_LIVE_CREDENTIALS = 10_000;
/**
 * A credential outlives its page (up to 12 h), so a user reloading embeds all day would pile them
 * up: past this many, the user's oldest credential is dropped (its page, long closed or idle,
 * needs a new launch to reconnect) instead of the table filling for everyone.
 */
export const CREDENTIALS_PER_USER: PerUserLimit = { max: 100, whenFull: 'evict_oldest' };

export interface EmbedCredentialClaims {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: EmbedKind;
  readonly parentOrigin: string;
  readonly viewOnly: boolean;
  /** The member's session this embed watches (issue #16); null: the user's own terminal or screen. */
  readonly watchSessionId: string | null;
  /** The user's session epoch at exchange: checked on every use, like a sign-in session's. */
  readonly sessionEpoch: string;
  readonly expiresAt: Date;
}

export const EMBED_CREDENTIAL_KIND: TokenKind = { ttlMs: EMBED_CREDENTIAL_MAX_TTL_MS, maxRecords: MAX_LIVE_CREDENTIALS, perUser: CREDENTIALS_PER_USER, uses: 'until_expiry' };

/** Minted with the build's window close as `notAfter`, if set: the credential dies with the window. */
export class EmbedCredentialBook extends TokenBook<Omit<EmbedCredentialClaims, 'expiresAt'>> {
  /** `store`: PostgreSQL for several nodes, made with EMBED_CREDENTIAL_KIND. */
  constructor(now: () => Date, store?: TokenStore<EmbedCredentialClaims>) {
    super(now, EMBED_CREDENTIAL_KIND, store);
  }
}
