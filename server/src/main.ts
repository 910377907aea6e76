/**
 * Entry point: read configuration once, open the store, serve, and drain on SIGINT/SIGTERM.
 *
 * A drain stops accepting connections, fails readiness, refuses upgrades, ends live terminals and
 * screens with 1001 (their pages reconnect to the next gateway), waits for browser and VM sockets
 * to close and for recordings and audit rows to be written, then exits. Whatever is still open
 * after PORTHOLE_DRAIN_SECONDS is cut, so a stop never hangs a deploy.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, scrubSecretsFromEnv } from './config/config.js';
import { createLogger } from './log.js';
import { openStore } from './store/open-store.js';
import { createGateway } from './gateway.js';
import { createHttpServer } from './http/http-server.js';

const MS_PER_SECOND = 1000;
/** Cutting sockets, closing the database and exiting take a moment; the cut comes this early. */
const EXIT_MARGIN_MS = 1000;
/** ...but never more than this share of a short drain time. */
const EXIT_MARGIN_MAX_SHARE = 0.1;

const here = dirname(fileURLToPath(import.meta.url));
/** dist/server/src/main.js → dist/client */
const CLIENT_DIR = resolve(here, '..', '..', 'client');

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`${loaded.error}\n`);
    process.exit(1);
  }
  scrubSecretsFromEnv(process.env);
  const { config, warnings } = loaded.value;
  const logger = createLogger(config.logLevel);
  for (const warning of warnings) logger.warn({ event: 'unsafe_setting' }, warning);

  const opened = await openStore(config.database, { nodeId: config.nodeId, logger });
  const { store } = opened;
  const gateway = createGateway({
    config,
    store,
    logger,
    clientDir: process.env['PORTHOLE_CLIENT_DIR'] ?? CLIENT_DIR,
    ...(opened.kind === 'postgres' && config.database.kind === 'postgres' ? { postgres: { pool: opened.store.pool, url: config.database.url } } : {}),
  });
  const server = createHttpServer();
  server.on('request', gateway.app);
  server.on('upgrade', gateway.handleUpgrade);
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ event: 'listening', host: config.host, port, publicUrl: config.publicUrl.href }, `Porthole listening on ${config.host}:${port}`);
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.info({ event: 'drain_started', signal, drainSeconds: config.drainSeconds }, 'draining before exit');
    const exit = (clean: boolean): void => {
      if (!clean) logger.warn({ event: 'drain_timeout', drainSeconds: config.drainSeconds }, 'drain time is up: cutting what is still open');
      logger.info({ event: 'shutdown', signal, durationMs: Date.now() - started }, 'stopped');
      process.exit(0);
    };
    const drainMs = config.drainSeconds * MS_PER_SECOND;
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      gateway.shutdown();
      void store.close().finally(() => exit(false));
    }, drainMs - Math.min(EXIT_MARGIN_MS, drainMs * EXIT_MARGIN_MAX_SHARE));

    const serverClosed = new Promise<void>((done) => server.close(() => done()));
    void (async () => {
      await gateway.drain();
      server.closeIdleConnections();
      await serverClosed;
      gateway.shutdown();
      await store.close();
      clearTimeout(deadline);
      exit(true);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
