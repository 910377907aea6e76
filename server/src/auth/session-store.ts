/**
 * express-session store over the project's Store, so login sessions live in the same database as
 * everything else (and move with it when the deployment changes database).
 */
import session from 'express-session';
import type { UserId } from '../../../shared/src/ids.js';
import type { Store } from '../store/store.js';
import { signInIdOf } from './sign-in-id.js';

/** Expired rows are deleted in the background this often; reads ignore them regardless. */
const PRUNE_INTERVAL_MS = 15 * 60 * 1000;
/** Used when a session cookie has no expiry (should not happen with our cookie settings). */
const FALLBACK_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A session nobody has signed in to yet (single sign-on state on its trip to the provider) is kept
 * this long after its last use: a person types a password and a second factor in minutes, while
 * anonymous starts in bulk must not fill the table for the cookie's twelve hours.
 */
export const PRE_LOGIN_SESSION_TTL_MS = 10 * 60 * 1000;

/** Sign-in sessions one user keeps (browsers, devices); signing in again drops the oldest beyond this. */
export const MAX_SIGN_IN_SESSIONS_PER_USER = 10;

type Callback<T = void> = (err?: unknown, value?: T) => void;

export class StoreBackedSessionStore extends session.Store {
  readonly #store: Store;
  readonly #pruneTimer: NodeJS.Timeout;

  constructor(store: Store) {
    super();
    this.#store = store;
    this.#pruneTimer = setInterval(() => {
      this.#store.pruneSessions(new Date()).catch(() => undefined);
    }, PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref();
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.#store.getSession(sid).then(
      (row) => {
        if (!row || row.expiresAt.getTime() <= Date.now()) return callback(null, null);
        try {
          callback(null, JSON.parse(row.data) as session.SessionData);
        } catch (error) {
          callback(error);
        }
      },
      (error: unknown) => callback(error),
    );
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    const userId = signedInUserOf(data);
    const row = { data: JSON.stringify(data), expiresAt: sessionRowExpiry(cookieExpiryOf(data), userId !== null, new Date()), userId, signInId: signInIdOf(sid) };
    this.#store.setSession(sid, row).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.#store.touchSession(sid, sessionRowExpiry(cookieExpiryOf(data), signedInUserOf(data) !== null, new Date())).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#store.destroySession(sid).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** Stops the background pruning; the Store itself belongs to the caller. */
  dispose(): void {
    clearInterval(this.#pruneTimer);
  }
}

/** When a session row expires: the cookie's expiry once signed in, and soon before that. */
export function sessionRowExpiry(cookieExpires: Date | null, signedIn: boolean, now: Date): Date {
  const cookie = cookieExpires ?? new Date(now.getTime() + FALLBACK_SESSION_TTL_MS);
  if (signedIn) return cookie;
  return new Date(Math.min(cookie.getTime(), now.getTime() + PRE_LOGIN_SESSION_TTL_MS));
}

function cookieExpiryOf(data: session.SessionData): Date | null {
  const expires = data.cookie.expires;
  return expires ? new Date(expires) : null;
}

/** The user passport keeps in the session (./passport.ts), if anyone signed in. */
function signedInUserOf(data: session.SessionData): UserId | null {
  const user = (data as { passport?: { user?: unknown } }).passport?.user;
  const id = typeof user === 'object' && user !== null ? (user as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? (id as UserId) : null;
}
