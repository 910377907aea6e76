/**
 * Sign-in and sign-out: the login page, email + password (unless switched off), and single sign-on
 * through OpenID Connect (../../auth/oidc.ts). Forms get redirects and pages; JSON clients get
 * status codes. Failed password attempts are rate-limited per address and per account, so neither
 * one machine nor a botnet aimed at one account can guess passwords quickly.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { PassportInstance } from '../../auth/passport.js';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { requireSameOrigin } from '../origin-guard.js';
import type { AssetManifest } from '../assets.js';
import { loginPage, type SignInMethods } from '../views/pages.js';
import { OIDC_REFUSAL_MESSAGES, OIDC_STRATEGY, type OidcLogin, type OidcRefusal } from '../../auth/oidc.js';
import { safeNextPath } from '../next-path.js';
import type { EventSink } from '../../audit/events.js';

/** Failed sign-ins counted over this window. */
const LOGIN_FAILURE_WINDOW_MS = 15 * 60 * 1000;
/** Per client address: enough for a user fumbling passwords on a shared NAT, far too few to guess. */
const MAX_LOGIN_FAILURES_PER_ADDRESS = 30;
/** Per account: stops a distributed guesser aimed at one user. */
const MAX_LOGIN_FAILURES_PER_ACCOUNT = 10;

export interface AuthRouteDeps {
  readonly passport: PassportInstance;
  readonly publicOrigin: string;
  readonly assets: AssetManifest;
  readonly logger: Logger;
  readonly localLogin: boolean;
  readonly oidc: OidcLogin | null;
  /** Sign-in outcomes go to the audit trail. */
  readonly events: EventSink;
}

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
  const limiterOptions = {
    windowMs: LOGIN_FAILURE_WINDOW_MS,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    handler: (req: Request, res: Response) => sendLoginFailure(req, res, deps, 429, 'Too many failed sign-ins. Wait a few minutes and try again.'),
  };
  const perAddress = rateLimit({ ...limiterOptions, limit: MAX_LOGIN_FAILURES_PER_ADDRESS, keyGenerator: (req) => ipKeyGenerator(req.ip ?? '') });
  const perAccount = rateLimit({
    ...limiterOptions,
    limit: MAX_LOGIN_FAILURES_PER_ACCOUNT,
    keyGenerator: (req) => `account:${emailOf(req).toLowerCase()}`,
  });

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
          req.logIn(user, (loginError) => {
            if (loginError) return next(loginError);
            deps.events.record({ type: 'login_succeeded', userId: user.id });
            res.redirect(303, after);
          });
        }) as RequestHandler;
        authenticate(req, res, next);
      },
      (error: unknown) => {
        deps.logger.warn({ event: 'oidc_unavailable', err: error }, 'single sign-on provider unreachable');
        refuse(503, `${oidc.providerName} cannot be reached right now. Try again in a moment.`);
      },
    );
  });

  router.post('/auth/login', sameOrigin, ...parsers, perAddress, perAccount, (req, res, next) => {
    if (!deps.localLogin) return next(new GatewayError('not_found', 'Password sign-in is switched off; use single sign-on.'));
    const email = emailOf(req);
    const password = (req.body as Record<string, unknown> | undefined)?.['password'];
    if (!email || typeof password !== 'string' || !password) {
      return sendLoginFailure(req, res, deps, 400, 'Enter your email and password.');
    }
    const authenticate = deps.passport.authenticate('local', (error: unknown, user: Express.User | false) => {
      if (error) return next(error);
      if (!user) {
        deps.events.record({ type: 'login_failed', email, clientAddress: req.ip ?? null });
        return sendLoginFailure(req, res, deps, 401, 'Wrong email or password.');
      }
      // passport regenerates the session here, so a session id planted before sign-in is useless.
      req.logIn(user, (loginError) => {
        if (loginError) return next(loginError);
        deps.events.record({ type: 'login_succeeded', userId: user.id });
        if (wantsJson(req)) return res.status(204).end();
        res.redirect(303, safeNextPath(bodyField(req, 'next')));
      });
    }) as RequestHandler;
    authenticate(req, res, next);
  });

  router.post('/auth/logout', sameOrigin, ...parsers, (req, res, next) => {
    const userId = req.user?.id;
    req.logOut((error) => {
      if (error) return next(error);
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
