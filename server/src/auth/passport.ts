/**
 * Passport with email + password (passport-local). The session stores the user id and the user's
 * session epoch at sign-in; every request re-reads the user and honours the session only while
 * the epoch is still the user's. Deleting a user, changing their sign-in (a new epoch) or
 * registering their id again for someone else (a new user, a new epoch) signs the old sessions out.
 */
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { UserId } from '../../../shared/src/ids.js';
import type { Store, UserRecord } from '../store/store.js';
import { verifyPassword } from './passwords.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express augments its types through this namespace.
  namespace Express {
    interface User {
      readonly id: UserId;
      readonly email: string;
      readonly name: string | null;
      /** The user's epoch when this session signed in; tickets carry it on. */
      readonly sessionEpoch: string;
    }
  }
}

export type PassportInstance = InstanceType<typeof passport.Authenticator>;

/** What a sign-in session holds about its user. */
export interface SessionUser {
  readonly id: UserId;
  readonly epoch: string;
}

export function toSessionUser(user: Express.User): SessionUser {
  return { id: user.id, epoch: user.sessionEpoch };
}

/** The signed-in user a session names, or null: unknown user, stale epoch, or an old bare id. */
export function userForSession(stored: unknown, user: UserRecord | null): Express.User | null {
  if (typeof stored !== 'object' || stored === null || user === null) return null;
  const { id, epoch } = stored as Partial<Record<keyof SessionUser, unknown>>;
  if (id !== user.id || typeof epoch !== 'string' || epoch !== user.sessionEpoch) return null;
  return toExpressUser(user);
}

export function toExpressUser(user: UserRecord): Express.User {
  return { id: user.id, email: user.email, name: user.name, sessionEpoch: user.sessionEpoch };
}

export function createPassport(store: Store): PassportInstance {
  const authenticator = new passport.Authenticator();
  authenticator.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', session: true }, (email, password, done) => {
      store.getUserByEmail(email).then(
        async (user) => {
          const valid = await verifyPassword(user?.passwordHash ?? null, password);
          done(null, valid && user ? toExpressUser(user) : false);
        },
        (error: unknown) => done(error),
      );
    }),
  );
  authenticator.serializeUser((user, done) => done(null, toSessionUser(user)));
  authenticator.deserializeUser((stored: unknown, done) => {
    const id = typeof stored === 'object' && stored !== null ? (stored as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') return done(null, false);
    store.getUser(id as UserId).then(
      (user) => done(null, userForSession(stored, user) ?? false),
      (error: unknown) => done(error),
    );
  });
  return authenticator;
}
