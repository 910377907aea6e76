/**
 * The composition root: builds every part of one gateway node from its configuration and store,
 * wires them together, and owns their lifetime (drain, shutdown). The HTTP application
 * (http/app.ts) and the WebSocket upgrade handler are both fed from here. Nothing listens and
 * nothing reads the environment, so the entry point, the demo and the tests each own the socket.
 */
import type pg from 'pg';
import type { Express } from 'express';
import type { Config } from './config/config.js';
import type { Store } from './store/store.js';
import type { Logger } from './log.js';
import { SecretBox } from './crypto/secret-box.js';
import { createPassport } from './auth/passport.js';
import { StoreBackedSessionStore } from './auth/session-store.js';
import { createOidcLogin } from './auth/oidc.js';
import { AssetManifest } from './http/assets.js';
import { createHttpApp } from './http/app.js';
import { buildOpenApiDocument } from './http/openapi/document.js';
import { swaggerUiDir } from './http/routes/api-docs.js';
import { packageVersion } from './package-version.js';
import { clientAddressOf } from './http/client-address.js';
import { sessionAuth } from './http/middleware/session-auth.js';
import { upgradeWithRequestId } from './http/middleware/request-log.js';
import { EmbedLaunchBook } from './connections/embed-launches.js';
import { EmbedCredentialBook } from './connections/embed-credentials.js';
import { TicketBook, TICKETS_PER_CONNECTION_SLOT } from './connections/tickets.js';
import { connectionEndpoints } from './connections/endpoints.js';
import { AccessEnforcer } from './sessions/access-enforcer.js';
import { WindowWatchers } from './sessions/window-watchers.js';
import { createAdmission } from './sessions/admission.js';
import { createConnectionAcceptor } from './sessions/live-connection.js';
import { UserConnectionQuota } from './sessions/connection-quota.js';
import { MAX_TRANSFERS_PER_USER, type TransferGateDeps } from './files/transfer-gate.js';
import { DrainTracker } from './sessions/drain.js';
import { SessionDirectory } from './sessions/session-directory.js';
import { createLiveSessions } from './sessions/live-sessions.js';
import { createWatcherForwarder, watcherActionRouter } from './cluster/watcher-forwarding.js';
import { Heartbeat } from './ws/heartbeat.js';
import { createUpgradeHandler, type UpgradeHandler } from './ws/upgrade.js';
import { identifyUpgrade } from './ws/identify.js';
import { tcpDialer, type Dialer } from './protocols/dialer.js';
import type { ProtocolRegistry } from './protocols/protocol.js';
import { CLIENT_STALL_TIMEOUT_MS } from './protocols/ssh/bridge.js';
import { sshProtocol } from './protocols/ssh/protocol.js';
import { screenReadPool, vncProtocol } from './protocols/vnc/protocol.js';
import { postgresNode, singleNode } from './cluster/coordination.js';
import { postgresTokenStores } from './cluster/pg-tickets.js';
import { AuditTrail } from './audit/audit-trail.js';
import { startAuditRetention } from './audit/retention.js';
import { GatewayMetrics } from './metrics/metrics.js';
import { Recorder } from './recording/recorder.js';
import { startRetention } from './recording/retention.js';
import { CloseCode } from '../../shared/src/protocol/close-codes.js';
import { deriveRelayKey } from './cluster/relay-assertion.js';
import { createRelayEndpoint } from './cluster/relay-endpoint.js';
import { isRelayPath, kindOfRelayPath } from './cluster/relay-paths.js';
import { SessionRelays } from './cluster/session-relay.js';
import { requestPath } from './ws/request-path.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { STALE_AFTER_MS } from './cluster/live-connections.js';
import { postgresOutbox, sqliteOutbox, type WebhookOutbox } from './webhooks/outbox.js';
import { createWebhookEmitter, type WebhookEmitter } from './webhooks/emitter.js';
import { startWebhookDelivery, type WebhookDelivery } from './webhooks/delivery.js';
import { windowChanges, type WindowWebhooks } from './webhooks/window-changes.js';
import type { WebhookSettings } from './config/config.js';

const MS_PER_MINUTE = 60_000;
/** What browsers are told when a drain closes their connection (1001); their pages reconnect. */
const DRAIN_CLOSE_REASON = 'gateway restarting';

export interface GatewayDeps {
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
  /** Overrides how often webhook delivery looks for due events (tests shorten it). */
  readonly webhookPollMs?: number;
}

export interface Gateway {
  /** Attach to the HTTP server's 'request' event. */
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

export function createGateway(deps: GatewayDeps): Gateway {
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
  // The protocols this gateway serves: one adapter per connection kind.
  const protocols: ProtocolRegistry = {
    ssh: sshProtocol({
      pinHostKey: (buildId, fingerprint) => store.pinHostKey(buildId, fingerprint),
      stallTimeoutMs: deps.terminalStallTimeoutMs ?? CLIENT_STALL_TIMEOUT_MS,
      resumeBufferBytes: config.resumeBufferBytes,
    }),
    vnc: vncProtocol({ readPool: screenReadPool() }),
  };
  const endpoints = connectionEndpoints(config.publicUrl, protocols);
  const audit = new AuditTrail({ store, logger, now });
  const metrics = new GatewayMetrics();
  audit.subscribe((event) => metrics.observe(event));
  const webhooks = startWebhooks(deps, metrics, now);
  if (webhooks) audit.subscribe((event) => webhooks.emitter.observe(event));
  const tracker = new DrainTracker();
  const recordings = config.recordings;
  const recorder = new Recorder({ store, dir: recordings.dir, recordAll: recordings.recordAll, logger, now, onDropped: (bytes) => metrics.recordingDropped(bytes) });
  const stopRetention = startRetention({ store, dir: recordings.dir, retentionDays: recordings.retentionDays, logger, now });
  const stopAuditRetention = startAuditRetention({ store, retentionDays: config.auditRetentionDays, logger, now });
  const coordination = deps.postgres
    ? postgresNode({ pool: deps.postgres.pool, url: deps.postgres.url, nodeId: config.nodeId, nodeUrl: config.nodeUrl, failClosedSeconds: config.failClosedSeconds, store, logger, now })
    : singleNode(config.nodeId);
  // Pages following a build's window (issue #20): told of each change by the enforcer, ended by its drain.
  const windowWatchers = new WindowWatchers();
  const enforcer = new AccessEnforcer({
    logger,
    watchers: windowWatchers,
    idleTimeoutMs: config.idleMinutes * MS_PER_MINUTE,
    events: audit,
    roleOf: (appId, userId) => store.getRole(appId, userId),
    ...(coordination.lifecycle ? { lifecycle: coordination.lifecycle } : {}),
  });
  const node = coordination.attach(enforcer);
  const heartbeat = new Heartbeat(deps.pingIntervalMs);
  const quota = new UserConnectionQuota(config.maxConnectionsPerUser);
  const authMiddleware = sessionAuth({ secureCookies: config.secureCookies, sessionSecret: config.sessionSecret, sessionStore, passport });

  // Who may open which connection: tickets minted for pages, redeemed at the upgrade.
  const sessions = new SessionDirectory();
  // Resuming a session another node holds: this node relays the page there (PORTHOLE_NODE_URL).
  const relayKey = deriveRelayKey(config.secretKey);
  const relays = new SessionRelays({ nodeId: config.nodeId, key: relayKey, now, logger, tracker, heartbeat });
  const admission = createAdmission({
    store,
    tickets,
    endpoints,
    quota,
    enforcer,
    sessions,
    otherNodes: coordination.otherNodes,
    watchEnabled: config.watch,
    now,
    events: audit,
    allowedOrigins: new Set([config.publicOrigin, ...config.allowedOrigins]),
    identify: (req) => identifyUpgrade(req, authMiddleware),
    clientAddress: (req) => clientAddressOf(req, config.trustProxy),
    draining: () => tracker.draining,
  });
  // File transfers (issue #17): each one its own SSH login, held to the access policy like a connection.
  const fileGate: TransferGateDeps = {
    store,
    enforcer,
    quota: new UserConnectionQuota(MAX_TRANSFERS_PER_USER),
    vm: {
      dialer: deps.dialer ?? tcpDialer,
      secrets,
      pinHostKey: (build, fingerprint) => store.pinHostKey(build.id, fingerprint),
      events: audit,
    },
    logger,
    now,
  };
  // The WebSocket side: an admitted upgrade becomes a live connection that owns itself.
  const acceptConnection = createConnectionAcceptor(
    {
      protocols,
      secrets,
      dialer: deps.dialer ?? tcpDialer,
      logger,
      now,
      events: audit,
      metrics,
      recorder,
      tracker,
      heartbeat,
      sessions,
      resumeSeconds: config.resumeSeconds,
      nodeId: config.nodeId,
    },
    (ws, readGate, session, node) => relays.open(ws, readGate, session, node),
  );
  const upgrades = createUpgradeHandler({ admit: (req) => admission.redeem(req), accept: acceptConnection, logger });
  // Pages other nodes relay to the sessions held here; only with an address they can reach.
  const relayEndpoint = createRelayEndpoint({
    nodeId: config.nodeId,
    key: relayKey,
    sessions,
    admission: { store, quota, enforcer, now },
    watchEnabled: config.watch,
    events: audit,
    now,
    logger,
    draining: () => tracker.draining,
  });
  const relayUpgrades =
    config.nodeUrl === null
      ? null
      : createUpgradeHandler({
          admit: (req) => relayEndpoint.admit(req),
          accept: (ws, readGate, admitted) => relayEndpoint.accept(ws, readGate, admitted),
          logger,
          kindOfPath: kindOfRelayPath,
        });
  const handleUpgrade: UpgradeHandler = (req, socket, head) =>
    (relayUpgrades !== null && isRelayPath(requestPath(req)) ? relayUpgrades.handle : upgrades.handle)(req, socket, head);

  // A session owner's watcher action reaching this node for a session another node holds.
  const forwardWatcherAction = createWatcherForwarder({ nodeId: config.nodeId, key: relayKey, now, logger });
  const app = createHttpApp({
    config,
    store,
    logger,
    now,
    clientDir: deps.clientDir,
    assets,
    secrets,
    passport,
    oidc: config.oidc === null ? null : createOidcLogin(config.oidc, passport, store, logger),
    sessionAuth: authMiddleware,
    admission,
    launches,
    embedCredentials,
    endpoints,
    events: audit,
    metrics,
    node,
    liveSessions: createLiveSessions({
      sessions,
      otherNodes: coordination.otherNodes,
      forward: (session, watcherId, action) =>
        forwardWatcherAction({
          nodeId: session.nodeId,
          nodeUrl: session.nodeUrl,
          sessionId: session.sessionId,
          ownerId: session.userId,
          buildId: session.buildId,
          kind: session.kind,
          act: { watcherId, op: action.type === 'remove' ? 'remove' : action.mode },
        }),
    }),
    // Watcher actions other nodes forward to the sessions held here; only with an address they can reach.
    internal: config.nodeUrl === null ? null : watcherActionRouter({ nodeId: config.nodeId, key: relayKey, sessions, now, logger }),
    draining: () => tracker.draining,
    fileGate,
    webhookOutbox: webhooks?.outbox ?? null,
    windowWatchers,
    windows: windowChanges({
      store,
      now,
      webhooks: webhooks?.window ?? null,
    }),
    apiDocs: { document: () => buildOpenApiDocument(packageVersion()), viewerDir: swaggerUiDir() },
  });

  return {
    app,
    handleUpgrade: upgradeWithRequestId(handleUpgrade, config.trustProxy),
    enforcer,
    audit,
    metrics,
    drain: async () => {
      tracker.startDraining();
      metrics.setDraining(true);
      enforcer.endAll(CloseCode.goingAway, DRAIN_CLOSE_REASON);
      relays.closeAll(CloseCode.goingAway, DRAIN_CLOSE_REASON);
      await tracker.idle();
      await recorder.flush();
      await audit.flush();
      // After the audit trail: the events of the connections just closed are in the outbox first.
      await webhooks?.close();
    },
    shutdown: () => {
      tracker.startDraining();
      enforcer.endAll(CloseCode.goingAway, DRAIN_CLOSE_REASON);
      relays.closeAll(CloseCode.goingAway, DRAIN_CLOSE_REASON);
      // Refusals counted since the drain's flush: their rows go to the store before it closes.
      void audit.flush();
      enforcer.dispose();
      coordination.stop();
      stopRetention();
      stopAuditRetention();
      upgrades.close();
      relayUpgrades?.close();
      heartbeat.dispose();
      tickets.dispose();
      launches.dispose();
      embedCredentials.dispose();
      sessionStore.dispose();
      // Sending stops now; the events of connections still closing are written by the drain's
      // close, and sent by the next node or start (the outbox is durable).
      void webhooks?.delivery.close();
    },
  };
}

interface Webhooks {
  readonly outbox: WebhookOutbox;
  readonly emitter: WebhookEmitter;
  /** What a user's Extend and Release need to write their events with the change. */
  readonly window: WindowWebhooks;
  readonly delivery: WebhookDelivery;
  /** Writes what was observed, then stops delivering; idempotent. */
  close(): Promise<void>;
}

/** The webhook outbox, what fills it and what empties it; null when PORTHOLE_WEBHOOK_URL is not set. */
function startWebhooks(deps: GatewayDeps, metrics: GatewayMetrics, now: () => Date): Webhooks | null {
  const { config, store, logger } = deps;
  const settings: WebhookSettings | null = config.webhooks;
  if (settings === null) return null;
  const pool = deps.postgres?.pool;
  const outbox = pool ? postgresOutbox(pool) : store instanceof SqliteStore ? sqliteOutbox(store.database) : null;
  if (outbox === null) {
    logger.error({ event: 'webhooks_unavailable' }, 'webhooks need the SQLite or PostgreSQL store; none will be sent');
    return null;
  }
  const delivery = startWebhookDelivery({
    outbox,
    secret: settings.secret,
    nodeId: config.nodeId,
    logger,
    now,
    onAttempt: (outcome) => metrics.webhookAttempt(outcome),
    ...(deps.webhookPollMs === undefined ? {} : { pollIntervalMs: deps.webhookPollMs }),
  });
  const emitter = createWebhookEmitter({
    outbox,
    endpoints: settings.endpoints,
    appOf: async (buildId) => (await store.getBuild(buildId))?.appId ?? null,
    // Another node's fresh row means the build is attached there: neither first nor last here.
    othersAttached: pool
      ? async (buildId) =>
          (
            await pool.query('SELECT 1 FROM live_connections WHERE build_id = $1 AND node_id <> $2 AND seen_at >= now() - make_interval(secs => $3) LIMIT 1', [
              buildId,
              config.nodeId,
              STALE_AFTER_MS / 1000,
            ])
          ).rowCount !== 0
      : async () => false,
    now,
    logger,
    onWritten: () => delivery.wake(),
    onDropped: (count) => metrics.webhookEventsDropped(count),
  });
  let closed: Promise<void> | null = null;
  return {
    outbox,
    emitter,
    window: { endpoints: settings.endpoints, settled: () => emitter.settled(), written: () => delivery.wake() },
    delivery,
    close: () => {
      closed ??= (async () => {
        await emitter.close();
        await delivery.close();
      })();
      return closed;
    },
  };
}
