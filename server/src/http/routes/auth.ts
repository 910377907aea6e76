/**
 * Sign-in and sign-out: the login page, email + password (unless switched off), and single sign-on
 * through OpenID Connect (../../auth/oidc.ts). Forms get redirects and pages; JSON clients get
 * status codes. Password attempts are limited per address and per account, failures more tightly
 * (../../auth/sign-in-limits.ts), so neither one machine nor a botnet aimed at one account can
 * guess passwords or burn the CPU quickly. A user keeps a bounded number of sign-in sessions, and
 * signing out ends the connections and tickets of that browser session.
 */
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { PassportInstance } from '../../auth/passport.js';
import { ipKeyGenerator } from 'express-rate-limit';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { requireSameOrigin } from '../middleware/origin-guard.js';
import type { AssetManifest } from '../assets.js';
import { loginPage, type SignInMethods } from '../views/pages.js';
import { OIDC_REFUSAL_MESSAGES, OIDC_STRATEGY, type OidcLogin, type OidcRefusal } from '../../auth/oidc.js';
import { safeNextPath } from '../next-path.js';
import type { EventSink } from '../../audit/events.js';
import { SIGN_IN_WINDOW_MS, SignInLimiter } from '../../auth/sign-in-limits.js';
import { MAX_SIGN_IN_SESSIONS_PER_USER } from '../../auth/session-store.js';
import { signInIdOf } from '../../auth/sign-in-id.js';
import type { Store } from '../../store/store.js';
import type { AccessChanges } from '../../cluster/access-changes.js';


export interface AuthRouteDeps {
  readonly passport: PassportInstance;
  readonly publicOrigin: string;
  readonly assets: AssetManifest;
  readonly logger: Logger;
  readonly localLogin: boolean;
  readonly oidc: OidcLogin | null;
  /** Sign-in outcomes go to the audit trail. */
  readonly events: EventSink;
  /** Where sign-in sessions are kept (a user's oldest beyond the cap are dropped). */
  readonly store: Store;
  /** Told when a browser session ends, so its connections end on every node. */
  readonly access: Pick<AccessChanges, 'signedOut'>;
  readonly now: () => Date;
}

const MS_PER_SECOND = 1000;

/** Where a single sign-on returns to, kept in the login session across the trip to the provider. */
const OIDC_NEXT_KEY = 'oidcNext';

declare module 'express-session' {
  interface SessionData {
    [OIDC_NEXT_KEY]?: string;
  }
}

export function authRouter(deps: AuthRouteDeps): Router {
  const router = Router();
  const sameOrigin = requireSameOrigin(deps.publicOrigin);
  const parsers = [
    express.urlencoded({ extended: false, limit: BROWSER_BODY_LIMIT_BYTES }),
    express.json({ limit: BROWSER_BODY_LIMIT_BYTES }),
  ];
  const limiter = new SignInLimiter({ now: () => deps.now().getTime() });
  /** Drops the user's oldest sessions beyond the cap, and the connections those browsers had open. */
  const signedIn = (req: Request, res: Response, next: NextFunction, user: Express.User, then: () => void): void => {
    req.logIn(user, (loginError) => {
      if (loginError) return next(loginError);
      deps.events.record({ type: 'login_succeeded', userId: user.id });
      deps.store.trimUserSessions(user.id, MAX_SIGN_IN_SESSIONS_PER_USER).then(
        (dropped) => {
          for (const signInId of dropped) deps.access.signedOut(signInId);
          then();
        },
        (error: unknown) => next(error),
      );
    });
  };

  router.get('/login', (req, res) => {
    const next = safeNextPath(req.query['next']);
    if (req.user) return res.redirect(303, next);
    sendLoginPage(res, deps, 200, { next, error: null, email: '' });
  });

  router.get('/auth/oidc', (req, res, next) => {
    const oidc = deps.oidc;
    if (!oidc) return next(new GatewayError('not_found', 'Single sign-on is not configured.'));
    const after = safeNextPath(req.query['next']);
    oidc.ready().then(
      () => {
        req.session[OIDC_NEXT_KEY] = after;
        (deps.passport.authenticate(OIDC_STRATEGY) as RequestHandler)(req, res, next);
      },
      (error: unknown) => {
        deps.logger.warn({ event: 'oidc_unavailable', err: error }, 'single sign-on provider unreachable');
        sendLoginPage(res, deps, 503, { next: after, error: `${oidc.providerName} cannot be reached right now. Try again in a moment.`, email: '' });
      },
    );
  });

  router.get('/auth/oidc/callback', (req, res, next) => {
    const oidc = deps.oidc;
    if (!oidc) return next(new GatewayError('not_found', 'Single sign-on is not configured.'));
    const after = safeNextPath(req.session[OIDC_NEXT_KEY]);
    const refuse = (status: 401 | 403 | 503, message: string): void => sendLoginPage(res, deps, status, { next: after, error: message, email: '' });
    oidc.ready().then(
      () => {
        const authenticate = deps.passport.authenticate(OIDC_STRATEGY, (error: unknown, user: Express.User | false, info: { message?: unknown } | undefined) => {
          if (error) {
            // A replayed or forged callback (wrong state, nonce or code) lands here too.
            deps.logger.info({ event: 'oidc_login_failed', reason: errorName(error) }, 'single sign-on failed');
            return refuse(401, `Signing in with ${oidc.providerName} did not work. Try again.`);
          }
          if (!user) {
            const reason = typeof info?.message === 'string' && info.message in OIDC_REFUSAL_MESSAGES ? (info.message as OidcRefusal) : null;
            if (reason === null) deps.logger.info({ event: 'oidc_login_failed', reason: 'no_state' }, 'single sign-on failed');
            return reason === null ? refuse(401, `Signing in with ${oidc.providerName} did not work. Try again.`) : refuse(403, OIDC_REFUSAL_MESSAGES[reason]);
          }
          // passport regenerates the session here, so nothing from before the sign-in carries over.
          signedIn(req, res, next, user, () => res.redirect(303, after));
        }) as RequestHandler;
        authenticate(req, res, next);
      },
      (error: unknown) => {
        deps.logger.warn({ event: 'oidc_unavailable', err: error }, 'single sign-on provider unreachable');
        refuse(503, `${oidc.providerName} cannot be reached right now. Try again in a moment.`);
      },
    );
  });

  router.post('/auth/login', sameOrigin, ...parsers, (req, res, next) => {
    if (!deps.localLogin) return next(new GatewayError('not_found', 'Password sign-in is switched off; use single sign-on.'));
    const email = emailOf(req);
    const password = (req.body as Record<string, unknown> | undefined)?.['password'];
    if (!email || typeof password !== 'string' || !password) {
      return sendLoginFailure(req, res, deps, 400, 'Enter your email and password.');
    }
    const address = ipKeyGenerator(req.ip ?? '');
    const refusal = limiter.admit(address, email);
    if (refusal !== null) {
      deps.logger.info({ event: 'login_rate_limited', reason: refusal }, 'sign-in refused: too many attempts');
      const message = refusal === 'too_many_failures' ? 'Too many failed sign-ins. Wait a few minutes and try again.' : 'Too many sign-ins. Wait a few minutes and try again.';
      // The whole window: an upper bound on the wait, whichever counter is full.
      res.set('Retry-After', String(SIGN_IN_WINDOW_MS / MS_PER_SECOND));
      return sendLoginFailure(req, res, deps, 429, message);
    }
    const authenticate = deps.passport.authenticate('local', (error: unknown, user: Express.User | false) => {
      if (error) return next(error);
      if (!user) {
        limiter.failed(address, email);
        deps.events.record({ type: 'login_failed', email, clientAddress: req.ip ?? null });
        return sendLoginFailure(req, res, deps, 401, 'Wrong email or password.');
      }
      // passport regenerates the session here, so a session id planted before sign-in is useless.
      signedIn(req, res, next, user, () => {
        if (wantsJson(req)) res.status(204).end();
        else res.redirect(303, safeNextPath(bodyField(req, 'next')));
      });
    }) as RequestHandler;
    authenticate(req, res, next);
  });

  router.post('/auth/logout', sameOrigin, ...parsers, (req, res, next) => {
    const userId = req.user?.id;
    // Named before passport replaces the session; the old one is destroyed in the store.
    const signInId = userId ? signInIdOf(req.sessionID) : null;
    req.logOut((error) => {
      if (error) return next(error);
      // Its tickets are refused from now on (the session is gone); its live connections end here.
      if (signInId !== null) deps.access.signedOut(signInId);
      if (userId) deps.logger.info({ event: 'logout', userId }, 'logout');
      if (wantsJson(req)) return res.status(204).end();
      res.redirect(303, '/login');
    });
  });

  return router;
}

function sendLoginFailure(req: Request, res: Response, deps: AuthRouteDeps, status: 400 | 401 | 429, message: string): void {
  if (wantsJson(req)) {
    const code = status === 429 ? 'rate_limited' : status === 401 ? 'invalid_credentials' : 'invalid_field';
    res.status(status).json(new GatewayError(code, message).toBody());
    return;
  }
  sendLoginPage(res, deps, status, { next: safeNextPath(bodyField(req, 'next')), error: message, email: emailOf(req) });
}

function sendLoginPage(res: Response, deps: AuthRouteDeps, status: number, page: { next: string; error: string | null; email: string }): void {
  const methods: SignInMethods = { local: deps.localLogin, ssoProvider: deps.oidc?.providerName ?? null };
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .send(loginPage({ assets: deps.assets.forEntry('src/pages/login.ts'), ...page, methods }).value);
}

/** Error class names only: provider error texts may echo request parameters. */
function errorName(error: unknown): string {
  return error instanceof Error ? (((error as { code?: unknown }).code as string | undefined) ?? error.name) : 'unknown';
}

function bodyField(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

function emailOf(req: Request): string {
  return bodyField(req, 'email').trim().slice(0, 254);
}

function wantsJson(req: Request): boolean {
  return req.is('application/json') === 'application/json';
}
