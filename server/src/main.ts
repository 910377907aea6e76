/**
 * Entry point: read configuration once, open the store, serve, and stop cleanly on SIGINT/SIGTERM.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, scrubSecretsFromEnv } from './config/config.js';
import { createLogger } from './log.js';
import { openStore } from './store/open-store.js';
import { createApp } from './http/app.js';
import { createHttpServer } from './http/http-server.js';

/** Connections still open after this are cut so a stop never hangs a deploy. */
const SHUTDOWN_GRACE_MS = 10_000;

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

  const opened = await openStore(config, logger);
  const { store } = opened;
  const gateway = createApp({
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
    logger.info({ event: 'shutdown', signal }, 'shutting down');
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    gateway.shutdown();
    server.close(() => {
      void store.close().then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
