/**
 * The sign-in session: express-session (cookie + stored row) then passport, which turns the
 * session's user into `req.user`. The same handlers run on HTTP routes and, through
 * ws/identify.ts, on WebSocket upgrades, so both see the same signed-in user.
 */
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { PassportInstance } from '../../auth/passport.js';

/** Sign-in lasts a working day; the access window, not the cookie, bounds VM access. */
const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;

export interface SessionAuthDeps {
  /** With an https public URL: a `__Host-` cookie that is only sent over TLS. */
  readonly secureCookies: boolean;
  readonly sessionSecret: string;
  readonly sessionStore: session.Store;
  readonly passport: PassportInstance;
}

export function sessionAuth(deps: SessionAuthDeps): RequestHandler[] {
  const sessionMiddleware = session({
    name: deps.secureCookies ? '__Host-porthole.sid' : 'porthole.sid',
    secret: deps.sessionSecret,
    store: deps.sessionStore,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, path: '/', maxAge: SESSION_MAX_AGE_MS },
  });
  // passport's typings return `any` for its middleware; they are plain Express handlers.
  return [sessionMiddleware, deps.passport.initialize(), deps.passport.session() as RequestHandler];
}
