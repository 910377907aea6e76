/**
 * express-session store over the project's Store, so login sessions live in the same database as
 * everything else (and move with it when the deployment changes database).
 */
import session from 'express-session';
import type { Store } from '../store/store.js';

/** Expired rows are deleted in the background this often; reads ignore them regardless. */
const PRUNE_INTERVAL_MS = 15 * 60 * 1000;
/** Used when a session cookie has no expiry (should not happen with our cookie settings). */
const FALLBACK_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

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
    this.#store.setSession(sid, { data: JSON.stringify(data), expiresAt: expiryOf(data) }).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.#store.touchSession(sid, expiryOf(data)).then(
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

function expiryOf(data: session.SessionData): Date {
  const expires = data.cookie.expires;
  return expires ? new Date(expires) : new Date(Date.now() + FALLBACK_SESSION_TTL_MS);
}
