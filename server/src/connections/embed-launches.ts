/**
 * Embed launch tokens: what a dashboard's backend gets from `POST /api/v1/embed-sessions` and puts
 * in the iframe's URL. Single use and short-lived, bound to one user, build, kind and parent
 * origin; the embed page exchanges it once for a credential (embed-credentials.ts).
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { EmbedKind } from '../../../shared/src/embed.js';
import { TokenBook, type TokenKind } from './token-book.js';
import type { PerUserLimit, TokenStore } from './token-store.js';

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
  /** The member's session this embed watches (issue #16); null: the user's own terminal or screen. */
  readonly watchSessionId: string | null;
  /** The user's session epoch at launch: a password change or deletion since then burns the launch. */
  readonly sessionEpoch: string;
  readonly expiresAt: Date;
}

export const EMBED_LAUNCH_KIND: TokenKind = { ttlMs: EMBED_LAUNCH_TTL_MS, maxRecords: MAX_LIVE_LAUNCHES, perUser: LAUNCHES_PER_USER, uses: 'once' };

/** Redeeming consumes the launch whatever happens next: a launch presented wrongly is burnt, not retried. */
export class EmbedLaunchBook extends TokenBook<Omit<LaunchClaims, 'expiresAt'>> {
  /** `store`: PostgreSQL for several nodes, made with EMBED_LAUNCH_KIND. */
  constructor(now: () => Date, store?: TokenStore<LaunchClaims>) {
    super(now, EMBED_LAUNCH_KIND, store);
  }
}
