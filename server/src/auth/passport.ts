/**
 * Passport with email + password (passport-local). The session stores only the user id; every
 * request re-reads the user, so a user deleted by the orchestrator is signed out at once.
 */
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { UserId } from '../../../shared/src/ids.js';
import type { Store } from '../store/store.js';
import { verifyPassword } from './passwords.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express augments its types through this namespace.
  namespace Express {
    interface User {
      readonly id: UserId;
      readonly email: string;
      readonly name: string | null;
    }
  }
}

export type PassportInstance = InstanceType<typeof passport.Authenticator>;

export function createPassport(store: Store): PassportInstance {
  const authenticator = new passport.Authenticator();
  authenticator.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', session: true }, (email, password, done) => {
      store.getUserByEmail(email).then(
        async (user) => {
          const valid = await verifyPassword(user?.passwordHash ?? null, password);
          done(null, valid && user ? { id: user.id, email: user.email, name: user.name } : false);
        },
        (error: unknown) => done(error),
      );
    }),
  );
  authenticator.serializeUser((user, done) => done(null, user.id));
  authenticator.deserializeUser((id: unknown, done) => {
    if (typeof id !== 'string') return done(null, false);
    store.getUser(id as UserId).then(
      (user) => done(null, user ? { id: user.id, email: user.email, name: user.name } : false),
      (error: unknown) => done(error),
    );
  });
  return authenticator;
}
