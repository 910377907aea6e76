/**
 * Builds the Express application without listening, so tests drive it with supertest and the
 * entry point owns the socket. Every dependency is passed in; nothing reads the environment here.
 */
import { join } from 'node:path';
import express, { type Express } from 'express';
import session from 'express-session';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../log.js';
import { SecretBox } from '../crypto/secret-box.js';
import { createPassport } from '../auth/passport.js';
import { StoreBackedSessionStore } from '../auth/session-store.js';
import { CONTROL_BODY_LIMIT_BYTES } from '../../../shared/src/limits.js';
import { securityHeaders } from './security-headers.js';
import { AssetManifest } from './assets.js';
import { controlApiRouter } from './routes/control-api.js';
import { authRouter } from './routes/auth.js';
import { pagesRouter } from './routes/pages.js';
import { nativeCredentialsRouter } from './routes/native-credentials.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { faviconRouter } from './routes/favicon.js';

/** Sign-in lasts a working day; the access window, not the cookie, bounds VM access. */
const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;
/** Hashed bundle names never change content, so browsers may keep them for a year. */
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

export interface AppDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Directory of the Vite build (dist/client). */
  readonly clientDir: string;
  readonly now?: () => Date;
}

export interface GatewayApp {
  readonly app: Express;
  readonly sessionMiddleware: express.RequestHandler;
  dispose(): void;
}

export function createApp(deps: AppDeps): GatewayApp {
  const { config, store, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const secrets = new SecretBox(config.secretKey);
  const assets = AssetManifest.load(deps.clientDir);
  const passport = createPassport(store);
  const sessionStore = new StoreBackedSessionStore(store);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders(config.secureCookies));
  app.use(faviconRouter());
  app.use('/assets', express.static(join(deps.clientDir, 'assets'), { index: false, immutable: true, maxAge: ASSET_MAX_AGE_MS, fallthrough: false }));

  app.use(
    '/api/v1',
    express.json({ limit: CONTROL_BODY_LIMIT_BYTES, strict: true }),
    controlApiRouter({ store, secrets, controlToken: config.controlToken, graceMinutes: config.graceMinutes, logger, now }),
  );

  const sessionMiddleware = session({
    name: config.secureCookies ? '__Host-porthole.sid' : 'porthole.sid',
    secret: config.sessionSecret,
    store: sessionStore,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: '/', maxAge: SESSION_MAX_AGE_MS },
  });
  // passport's typings return `any` for its middleware; they are plain Express handlers.
  app.use(sessionMiddleware, passport.initialize(), passport.session() as express.RequestHandler);
  app.use('/api/v1', nativeCredentialsRouter({ store, secrets, enabled: config.showNativeCredentials, logger, now }));
  app.use(authRouter({ passport, publicOrigin: config.publicOrigin, assets, logger }));
  app.use(pagesRouter({ store, assets, showNativeCredentials: config.showNativeCredentials, now }));
  app.use(notFoundHandler());
  app.use(errorHandler(logger, assets));

  return { app, sessionMiddleware, dispose: () => sessionStore.dispose() };
}
