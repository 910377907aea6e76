/**
 * Starts a real gateway on 127.0.0.1:0 with a throwaway SQLite database, for integration and e2e
 * tests. Logs are captured in memory so tests can assert on audit lines and on leaked secrets.
 */
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../server/src/config/config.js';
import { createLogger } from '../../server/src/log.js';
import { SqliteStore } from '../../server/src/store/sqlite/sqlite-store.js';
import { createGateway, type Gateway } from '../../server/src/gateway.js';
import { createHttpServer } from '../../server/src/http/http-server.js';
import type { Dialer } from '../../server/src/protocols/dialer.js';
import { checksResponsesByDefault, createResponseRecorder } from './response-recorder.js';

export const CLIENT_DIR = resolve(import.meta.dirname, '..', '..', 'dist', 'client');
/** VM sockets close within ssh2's 2 s grace; this only bounds a wedged one. */
const CLOSE_DRAIN_TIMEOUT_MS = 5_000;

export interface TestGateway {
  readonly url: string;
  readonly origin: string;
  readonly controlToken: string;
  readonly config: Config;
  readonly store: SqliteStore;
  readonly databasePath: string;
  readonly enforcer: Gateway['enforcer'];
  /** The gateway itself: audit trail, metrics, drain. */
  readonly app: Gateway;
  /** Where this gateway writes session recordings (inside its throwaway directory). */
  readonly recordingsDir: string;
  /** Parsed JSON log lines written so far. */
  readonly logs: () => readonly Record<string, unknown>[];
  /** The raw log text, for "no secret appears anywhere" checks. */
  readonly rawLogs: () => string;
  /** Moves the gateway's clock; tests of windows use this instead of waiting. */
  setNow(now: Date | null): void;
  close(): Promise<void>;
}

/** What clients need to reach a gateway, in-process or a separate process. */
export type GatewayAddress = Pick<TestGateway, 'url' | 'origin' | 'controlToken'>;

export interface StartGatewayOptions {
  /** Overrides the dialer, e.g. with a spy that counts dials to VMs. */
  readonly dialer?: Dialer;
  readonly terminalStallTimeoutMs?: number;
  /** Shortens the browser heartbeat so vanished-client tests finish quickly. */
  readonly pingIntervalMs?: number;
  readonly headersTimeoutMs?: number;
  /**
   * A database file of the test's own, kept at close: a later gateway on the same file is this
   * one restarted. Default: a throwaway file removed at close.
   */
  readonly databasePath?: string;
  /** Shortens how often webhook delivery looks for due events. */
  readonly webhookPollMs?: number;
  /**
   * Checks every API response against the OpenAPI document; `close()` then fails listing each one
   * that does not match (./response-recorder.ts). Default: on in test/integration, off elsewhere.
   */
  readonly checkResponses?: boolean;
}

export async function startGateway(env: Record<string, string> = {}, options: StartGatewayOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-gw-'));
  const databasePath = options.databasePath ?? join(dir, 'porthole.db');
  const server: Server = createHttpServer(options.headersTimeoutMs !== undefined ? { headersTimeoutMs: options.headersTimeoutMs } : {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  const controlToken = `control-${randomBytes(16).toString('hex')}`;
  const loaded = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PORTHOLE_DATABASE: `sqlite:${databasePath}`,
    PORTHOLE_CONTROL_TOKEN: controlToken,
    PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
    PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
    PORTHOLE_LOG_LEVEL: 'info',
    ...env,
  });
  if (!loaded.ok) {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(loaded.error);
  }
  const { config } = loaded.value;

  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw += chunk.toString('utf8');
      callback();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const store = SqliteStore.open(databasePath);
  let fixedNow: Date | null = null;
  const gateway = createGateway({
    config,
    store,
    logger,
    clientDir: CLIENT_DIR,
    now: () => fixedNow ?? new Date(),
    ...(options.dialer ? { dialer: options.dialer } : {}),
    ...(options.terminalStallTimeoutMs !== undefined ? { terminalStallTimeoutMs: options.terminalStallTimeoutMs } : {}),
    ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
    ...(options.webhookPollMs !== undefined ? { webhookPollMs: options.webhookPollMs } : {}),
  });
  const recorder = (options.checkResponses ?? checksResponsesByDefault()) ? createResponseRecorder() : null;
  server.on('request', recorder ? recorder.wrap(gateway.app) : gateway.app);
  server.on('upgrade', gateway.handleUpgrade);

  let closed: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    origin: config.publicOrigin,
    controlToken,
    config,
    store,
    databasePath,
    enforcer: gateway.enforcer,
    app: gateway,
    recordingsDir: config.recordings.dir,
    logs: () =>
      raw
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLogs: () => raw,
    setNow(now) {
      fixedNow = now;
    },
    close() {
      closed ??= (async () => {
        gateway.shutdown();
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
        // Recordings and audit rows of the connections just ended are written before the store closes.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([gateway.drain(), new Promise((done) => (timer = setTimeout(done, CLOSE_DRAIN_TIMEOUT_MS)))]);
        clearTimeout(timer);
        await store.close();
        rmSync(dir, { recursive: true, force: true });
        // After the clean-up: a broken contract fails the test, not the next one's start.
        recorder?.assertKept();
      })();
      return closed;
    },
  };
}
