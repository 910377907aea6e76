/**
 * Sign-in and sign-out. Forms get redirects and pages; JSON clients get status codes. Failed
 * attempts are rate-limited per address and per account, so neither one machine nor a botnet
 * aimed at one account can guess passwords quickly.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { PassportInstance } from '../../auth/passport.js';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { requireSameOrigin } from '../origin-guard.js';
import type { AssetManifest } from '../assets.js';
import { loginPage } from '../views/pages.js';
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
  /** Sign-in outcomes go to the audit trail. */
  readonly events: EventSink;
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

  router.post('/auth/login', sameOrigin, ...parsers, perAddress, perAccount, (req, res, next) => {
    const email = emailOf(req);
    const password = (req.body as Record<string, unknown> | undefined)?.['password'];
    if (!email || typeof password !== 'string' || !password) {
      return sendLoginFailure(req, res, deps, 400, 'Enter your email and password.');
    }
    const authenticate = deps.passport.authenticate('local', (error: unknown, user: Express.User | false) => {
      if (error) return next(error);
      if (!user) {
        deps.events.record({ type: 'login_failed', email });
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
  res
    .status(status)
    .type('html')
    .send(loginPage({ assets: deps.assets.forEntry('src/pages/login.ts'), next: safeNextPath(bodyField(req, 'next')), error: message, email: emailOf(req) }).value);
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
