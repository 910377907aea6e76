/**
 * The Express application: the order of its middleware and the routes mounted on it. Every part
 * it serves from is built by the composition root (../gateway.ts) and handed in, so this file
 * only says what runs before what; it listens on nothing and reads nothing from the environment.
 */
import { join } from 'node:path';
import express, { type Express, type RequestHandler, type Router } from 'express';
import expressStaticGzip from 'express-static-gzip';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PassportInstance } from '../auth/passport.js';
import type { OidcLogin } from '../auth/oidc.js';
import type { EventSink } from '../audit/events.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { NodeLinks } from '../cluster/coordination.js';
import type { Admission } from '../sessions/admission.js';
import type { LiveSessions } from '../sessions/live-sessions.js';
import type { EmbedLaunchBook } from '../connections/embed-launches.js';
import type { EmbedCredentialBook } from '../connections/embed-credentials.js';
import type { ConnectionEndpoints } from '../connections/endpoints.js';
import type { AssetManifest } from './assets.js';
import { embedParentOf } from './embed-framing.js';
import { requestLogging } from './middleware/request-log.js';
import { securityHeaders } from './middleware/security-headers.js';
import { errorHandler, notFoundHandler } from './middleware/error-handler.js';
import { healthRouter } from './routes/health.js';
import { metricsRouter } from './routes/metrics.js';
import { faviconRouter } from './routes/favicon.js';
import { auditRouter } from './routes/audit.js';
import { controlApiRouter } from './routes/control-api.js';
import { embedSessionsRouter } from './routes/embed-sessions.js';
import { embedRouter } from './routes/embed.js';
import { embedPagesRouter } from './routes/embed-pages.js';
import { nativeCredentialsRouter } from './routes/native-credentials.js';
import { windowRouter } from './routes/window.js';
import { windowEventsRouter } from './routes/window-events.js';
import type { WindowWatchers } from '../sessions/window-watchers.js';
import { connectionsRouter } from './routes/connections.js';
import { liveSessionsRouter } from './routes/live-sessions.js';
import { recordingsRouter } from './routes/recordings.js';
import { authRouter } from './routes/auth.js';
import { pagesRouter } from './routes/pages.js';
import { filesRouter, isFileUpload } from './routes/files.js';
import { webhookDeliveriesRouter } from './routes/webhook-deliveries.js';
import { apiDocsRouter, type ApiDocsDeps } from './routes/api-docs.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import type { WindowChanges } from '../webhooks/window-changes.js';
import { bodyDeadline } from './middleware/body-deadline.js';
import { REQUEST_TIMEOUT_MS } from './http-server.js';
import type { TransferGateDeps } from '../files/transfer-gate.js';

/** Hashed bundle names never change content, so browsers may keep them for a year. */
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

export interface HttpAppDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Directory of the Vite build (dist/client). */
  readonly clientDir: string;
  readonly assets: AssetManifest;
  readonly secrets: SecretBox;
  readonly passport: PassportInstance;
  /** Single sign-on, or null when PORTHOLE_OIDC_* is not set. */
  readonly oidc: OidcLogin | null;
  /** The sign-in session (express-session + passport), the same handlers the upgrade identifies with. */
  readonly sessionAuth: readonly RequestHandler[];
  /** Mints connection tickets for the user's pages and embed pages. */
  readonly admission: Admission;
  readonly launches: EmbedLaunchBook;
  readonly embedCredentials: EmbedCredentialBook;
  readonly endpoints: ConnectionEndpoints;
  /** The audit trail: what routes grant and refuse. */
  readonly events: EventSink;
  readonly metrics: GatewayMetrics;
  /** Where access changes are reported and which connections are live, on this node or all of them. */
  readonly node: NodeLinks;
  /** The build's live sessions as its members see them, and their owners' say over watchers. */
  readonly liveSessions: LiveSessions;
  /** Calls from other gateway nodes (../cluster/watcher-forwarding.ts); null when this node takes none. */
  readonly internal: Router | null;
  /** True once a drain has begun: readiness fails. */
  readonly draining: () => boolean;
  /** What file operations need to be admitted and to reach the VM (../files/transfer-gate.ts). */
  readonly fileGate: TransferGateDeps;
  /** The webhook outbox, for the deliveries API; null when webhooks are not configured. */
  readonly webhookOutbox: WebhookOutbox | null;
  /** A user's Extend and Release, each with its webhook event in the same transaction. */
  readonly windows: WindowChanges;
  /** The OpenAPI document (built on first request) and where its viewer's files are. */
  readonly apiDocs: ApiDocsDeps;
  /** This node's window streams, fed by its AccessEnforcer. */
  readonly windowWatchers: WindowWatchers;
}

export function createHttpApp(deps: HttpAppDeps): Express {
  const { config, store, logger, now, assets, secrets, admission, launches, endpoints, events, node } = deps;
  const embedOrigins: ReadonlySet<string> = new Set(config.embedOrigins);

  const app = express();
  app.disable('x-powered-by');
  // One hop: the address the proxy in front of us saw. `true` would trust a client-forged X-Forwarded-For.
  app.set('trust proxy', config.trustProxy ? 1 : false);
  app.use(...requestLogging(logger, config.trustProxy));
  app.use(bodyDeadline(REQUEST_TIMEOUT_MS, isFileUpload));
  app.use(healthRouter({ store, draining: deps.draining }));
  app.use(metricsRouter({ metrics: deps.metrics, token: config.metricsToken }));
  app.use(...securityHeaders(config.secureCookies, (req) => embedParentOf(req, embedOrigins)));
  app.use(faviconRouter());
  // Public: the document describes the API and holds nothing secret.
  app.use(apiDocsRouter(deps.apiDocs));
  // The build wrote brotli and gzip copies beside each asset (vite.config.ts): sent as the browser
  // accepts them, brotli first, with Vary: Accept-Encoding.
  app.use(
    '/assets',
    expressStaticGzip(join(deps.clientDir, 'assets'), {
      enableBrotli: true,
      orderPreference: ['br', 'gzip'],
      index: false,
      serveStatic: { index: false, immutable: true, maxAge: ASSET_MAX_AGE_MS, fallthrough: false },
    }),
  );

  // Other nodes authenticate with a signed assertion, never a cookie or the control token.
  if (deps.internal) app.use(deps.internal);
  app.use('/api/v1', auditRouter({ store, controlToken: config.controlToken }));
  app.use('/api/v1', webhookDeliveriesRouter({ outbox: deps.webhookOutbox, controlToken: config.controlToken }));
  app.use(
    '/api/v1',
    controlApiRouter({ store, secrets, controlToken: config.controlToken, graceMinutes: config.graceMinutes, logger, now, enforcer: node.changes, liveSessions: node.directory }),
  );
  // Embedding never uses the session cookie, so it is served before the session middleware.
  app.use(
    '/api/v1',
    embedSessionsRouter({ store, launches, endpoints, controlToken: config.controlToken, embedOrigins, publicUrl: config.publicUrl, logger, now }),
  );
  app.use('/api/v1', embedRouter({ store, now, admission, logger, launches, credentials: deps.embedCredentials, publicOrigin: config.publicOrigin }));
  app.use(embedPagesRouter({ assets, clientDir: deps.clientDir }));

  app.use(...deps.sessionAuth);
  app.use('/api/v1', nativeCredentialsRouter({ store, secrets, enabled: config.showNativeCredentials, now, events }));
  app.use('/api/v1', windowRouter({ store, now, graceMinutes: config.graceMinutes, events, windows: deps.windows, changes: node.changes, publicOrigin: config.publicOrigin }));
  app.use('/api/v1', windowEventsRouter({ store, now, graceMinutes: config.graceMinutes, watchers: deps.windowWatchers, draining: deps.draining, logger }));
  app.use('/api/v1', connectionsRouter({ admission, publicOrigin: config.publicOrigin }));
  // After the session middleware: the signed-in user's cookie, or else an embed page's credential.
  app.use(
    '/api/v1',
    filesRouter({
      mode: config.fileTransfer,
      maxUploadBytes: config.maxUploadBytes,
      uploadIdleMs: config.uploadIdleSeconds * 1000,
      publicOrigin: config.publicOrigin,
      store,
      credentials: deps.embedCredentials,
      gate: deps.fileGate,
      events,
      logger,
    }),
  );
  app.use('/api/v1', liveSessionsRouter({ store, now, liveSessions: deps.liveSessions, watchEnabled: config.watch, publicOrigin: config.publicOrigin }));
  app.use(recordingsRouter({ store, assets, dir: config.recordings.dir }));
  app.use(
    authRouter({ passport: deps.passport, publicOrigin: config.publicOrigin, assets, logger, events, localLogin: config.localLogin, oidc: deps.oidc, store, access: node.changes, now }),
  );
  app.use(pagesRouter({ store, assets, showNativeCredentials: config.showNativeCredentials, watchEnabled: config.watch, graceMinutes: config.graceMinutes, recordAll: config.recordings.recordAll, now }));
  app.use(notFoundHandler());
  app.use(errorHandler(logger, assets));
  return app;
}
