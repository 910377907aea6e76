/**
 * Builds the Express application without listening, so tests drive it with supertest and the
 * entry point owns the socket. Every dependency is passed in; nothing reads the environment here.
 */
import { join } from 'node:path';
import express, { type Express } from 'express';
import type pg from 'pg';
import session from 'express-session';
import type { Config } from '../config/config.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../log.js';
import { SecretBox } from '../crypto/secret-box.js';
import { createPassport } from '../auth/passport.js';
import { StoreBackedSessionStore } from '../auth/session-store.js';
import { createOidcLogin } from '../auth/oidc.js';
import { securityHeaders } from './security-headers.js';
import { AssetManifest } from './assets.js';
import { controlApiRouter } from './routes/control-api.js';
import { authRouter } from './routes/auth.js';
import { pagesRouter } from './routes/pages.js';
import { nativeCredentialsRouter } from './routes/native-credentials.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { faviconRouter } from './routes/favicon.js';
import { connectionsRouter } from './routes/connections.js';
import { windowRouter } from './routes/window.js';
import { embedSessionsRouter } from './routes/embed-sessions.js';
import { embedRouter } from './routes/embed.js';
import { embedPagesRouter } from './routes/embed-pages.js';
import { embedParentOf } from './embed-framing.js';
import { EmbedLaunchBook } from '../connections/embed-launches.js';
import { EmbedCredentialBook } from '../connections/embed-credentials.js';
import { TicketBook, TICKETS_PER_CONNECTION_SLOT } from '../connections/tickets.js';
import { connectionEndpoints } from '../connections/endpoints.js';
import { AccessEnforcer } from '../sessions/access-enforcer.js';
import { createConnectionAcceptor } from '../sessions/accept-connection.js';
import { Heartbeat } from '../ws/heartbeat.js';
import { UserConnectionQuota } from '../ws/connection-quota.js';
import { createUpgradeHandler, type UpgradeHandler } from '../ws/upgrade.js';
import { tcpDialer, type Dialer } from '../protocols/dialer.js';
import { identifyUpgrade } from '../ws/identify.js';
import { clientAddressOf } from './client-address.js';
import { CLIENT_STALL_TIMEOUT_MS } from '../protocols/ssh/terminal-bridge.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { postgresNode, singleNode } from '../cluster/coordination.js';
import { postgresTokenStores } from '../cluster/pg-tickets.js';
import { AuditTrail } from '../audit/audit-trail.js';
import { GatewayMetrics } from '../metrics/metrics.js';
import { Recorder } from '../recording/recorder.js';
import { startRetention } from '../recording/retention.js';
import { startAuditRetention } from '../audit/retention.js';
import { DrainTracker } from '../sessions/drain.js';
import { requestLogging, upgradeWithRequestId } from './request-log.js';
import { healthRouter } from './routes/health.js';
import { metricsRouter } from './routes/metrics.js';
import { auditRouter } from './routes/audit.js';
import { recordingsRouter } from './routes/recordings.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';

/** Sign-in lasts a working day; the access window, not the cookie, bounds VM access. */
const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;
const MS_PER_MINUTE = 60_000;
/** Hashed bundle names never change content, so browsers may keep them for a year. */
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;
/** What browsers are told when a drain closes their connection (1001); their pages reconnect. */
const DRAIN_CLOSE_REASON = 'gateway restarting';

export interface AppDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Directory of the Vite build (dist/client). */
  readonly clientDir: string;
  readonly now?: () => Date;
  /** How VMs are reached; tests pass a spy. */
  readonly dialer?: Dialer;
  /** Overrides how long a browser may leave terminal output unread (tests shorten it). */
  readonly terminalStallTimeoutMs?: number;
  /** Overrides the browser heartbeat interval (tests of vanished browsers shorten it). */
  readonly pingIntervalMs?: number;
  /** With a PostgreSQL store: its pool and URL, for coordinating with the other nodes. */
  readonly postgres?: { readonly pool: pg.Pool; readonly url: string };
}

export interface GatewayApp {
  readonly app: Express;
  /** Attach to the HTTP server's 'upgrade' event. */
  readonly handleUpgrade: UpgradeHandler;
  readonly enforcer: AccessEnforcer;
  readonly audit: AuditTrail;
  readonly metrics: GatewayMetrics;
  /**
   * Starts a graceful stop: readiness fails, upgrades are refused, live connections get 1001.
   * Resolves once their browser and VM sockets are closed and recordings and audit rows written;
   * the caller bounds the wait (PORTHOLE_DRAIN_SECONDS).
   */
  drain(): Promise<void>;
  /** Ends every live connection with 1001 and stops timers; the caller closes the HTTP server. */
  shutdown(): void;
}

/** Connection kinds this gateway serves. */
const ENABLED_KINDS: readonly ConnectionKind[] = ['ssh', 'vnc'];

export function createApp(deps: AppDeps): GatewayApp {
  const { config, store, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const secrets = new SecretBox(config.secretKey);
  const assets = AssetManifest.load(deps.clientDir);
  const passport = createPassport(store);
  const sessionStore = new StoreBackedSessionStore(store);
  // Several nodes share their bearer tokens through PostgreSQL, so any node honours each exactly once.
  const ticketsPerUser = TICKETS_PER_CONNECTION_SLOT * config.maxConnectionsPerUser;
  const shared = deps.postgres ? postgresTokenStores(deps.postgres.pool, now, { ticketsPerUser }) : null;
  const tickets = new TicketBook(now, ticketsPerUser, shared?.tickets);
  const launches = new EmbedLaunchBook(now, shared?.launches);
  const embedCredentials = new EmbedCredentialBook(now, shared?.credentials);
  const embedOrigins: ReadonlySet<string> = new Set(config.embedOrigins);
  const endpoints = connectionEndpoints(config.publicUrl, ENABLED_KINDS);
  const audit = new AuditTrail({ store, logger, now });
  const metrics = new GatewayMetrics();
  audit.subscribe((event) => metrics.observe(event));
  const tracker = new DrainTracker();
  const recordings = config.recordings;
  const recorder = new Recorder({ store, dir: recordings.dir, recordAll: recordings.recordAll, logger, now, onDropped: (bytes) => metrics.recordingDropped(bytes) });
  const stopRetention = startRetention({ store, dir: recordings.dir, retentionDays: recordings.retentionDays, logger, now });
  const stopAuditRetention = startAuditRetention({ store, retentionDays: config.auditRetentionDays, logger, now });
  const coordination = deps.postgres
    ? postgresNode({ pool: deps.postgres.pool, url: deps.postgres.url, nodeId: config.nodeId, failClosedSeconds: config.failClosedSeconds, store, logger, now })
    : singleNode(config.nodeId);
  const enforcer = new AccessEnforcer({
    logger,
    idleTimeoutMs: config.idleMinutes * MS_PER_MINUTE,
    events: audit,
    roleOf: (appId, userId) => store.getRole(appId, userId),
    ...(coordination.lifecycle ? { lifecycle: coordination.lifecycle } : {}),
  });
  const node = coordination.attach(enforcer);
  const heartbeat = new Heartbeat(deps.pingIntervalMs);
  const quota = new UserConnectionQuota(config.maxConnectionsPerUser);
  const sessionMiddleware = session({
    name: config.secureCookies ? '__Host-porthole.sid' : 'porthole.sid',
    secret: config.sessionSecret,
    store: sessionStore,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: '/', maxAge: SESSION_MAX_AGE_MS },
  });
  // passport's typings return `any` for its middleware; they are plain Express handlers.
  const authMiddleware: express.RequestHandler[] = [sessionMiddleware, passport.initialize(), passport.session() as express.RequestHandler];
  const upgrades = createUpgradeHandler({
    store,
    tickets,
    endpoints,
    allowedOrigins: new Set([config.publicOrigin, ...config.allowedOrigins]),
    heartbeat,
    enforcer,
    quota,
    logger,
    now,
    identify: (req) => identifyUpgrade(req, authMiddleware),
    events: audit,
    clientAddress: (req) => clientAddressOf(req, config.trustProxy),
    draining: () => tracker.draining,
    accept: createConnectionAcceptor({
      store,
      secrets,
      dialer: deps.dialer ?? tcpDialer,
      logger,
      now,
      stallTimeoutMs: deps.terminalStallTimeoutMs ?? CLIENT_STALL_TIMEOUT_MS,
      events: audit,
      metrics,
      recorder,
      tracker,
    }),
  });

  const app = express();
  app.disable('x-powered-by');
  // One hop: the address the proxy in front of us saw. `true` would trust a client-forged X-Forwarded-For.
  app.set('trust proxy', config.trustProxy ? 1 : false);
  app.use(...requestLogging(logger, config.trustProxy));
  app.use(healthRouter({ store, draining: () => tracker.draining }));
  app.use(metricsRouter({ metrics, token: config.metricsToken }));
  app.use(...securityHeaders(config.secureCookies, (req) => embedParentOf(req, embedOrigins)));
  app.use(faviconRouter());
  app.use('/assets', express.static(join(deps.clientDir, 'assets'), { index: false, immutable: true, maxAge: ASSET_MAX_AGE_MS, fallthrough: false }));

  app.use('/api/v1', auditRouter({ store, controlToken: config.controlToken }));
  app.use(
    '/api/v1',
    controlApiRouter({ store, secrets, controlToken: config.controlToken, graceMinutes: config.graceMinutes, logger, now, enforcer: node.changes, liveSessions: node.directory }),
  );
  // Embedding never uses the session cookie, so it is served before the session middleware.
  app.use(
    '/api/v1',
    embedSessionsRouter({ store, launches, endpoints, controlToken: config.controlToken, embedOrigins, publicUrl: config.publicUrl, logger, now }),
  );
  app.use('/api/v1', embedRouter({ store, tickets, endpoints, now, events: audit, quota, logger, launches, credentials: embedCredentials, publicOrigin: config.publicOrigin }));
  app.use(embedPagesRouter({ assets, clientDir: deps.clientDir }));

  app.use(...authMiddleware);
  app.use('/api/v1', nativeCredentialsRouter({ store, secrets, enabled: config.showNativeCredentials, now, events: audit }));
  app.use('/api/v1', windowRouter({ store, now }));
  app.use('/api/v1', connectionsRouter({ store, tickets, endpoints, publicOrigin: config.publicOrigin, now, events: audit, quota }));
  app.use(recordingsRouter({ store, assets, dir: recordings.dir }));
  const oidc = config.oidc === null ? null : createOidcLogin(config.oidc, passport, store, logger);
  app.use(authRouter({ passport, publicOrigin: config.publicOrigin, assets, logger, events: audit, localLogin: config.localLogin, oidc, store, access: node.changes, now }));
  app.use(pagesRouter({ store, assets, showNativeCredentials: config.showNativeCredentials, now }));
  app.use(notFoundHandler());
  app.use(errorHandler(logger, assets));

  return {
    app,
    handleUpgrade: upgradeWithRequestId(upgrades.handle, config.trustProxy),
    enforcer,
    audit,
    metrics,
    drain: async () => {
      tracker.startDraining();
      metrics.setDraining(true);
      enforcer.endAll(CloseCode.goingAway, DRAIN_CLOSE_REASON);
      await tracker.idle();
      await recorder.flush();
      await audit.flush();
    },
    shutdown: () => {
      tracker.startDraining();
      enforcer.endAll(CloseCode.goingAway, DRAIN_CLOSE_REASON);
      // Refusals counted since the drain's flush: their rows go to the store before it closes.
      void audit.flush();
      enforcer.dispose();
      coordination.stop();
      stopRetention();
      stopAuditRetention();
      upgrades.close();
      heartbeat.dispose();
      tickets.dispose();
      launches.dispose();
      embedCredentials.dispose();
      sessionStore.dispose();
    },
  };
}
