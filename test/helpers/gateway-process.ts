/**
 * The built gateway (dist/server/src/main.js) as its own process, for what only a real process
 * shows: signals, draining and exiting. Needs `npm run build` first (npm test does it).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { registerTempDir, spawnManaged, type ManagedProcess, type ProcessExit } from './daemon.js';
import { freePort } from './ports.js';
import type { GatewayAddress } from './gateway.js';
import { inspectorUrlIn, memoryAfterGc, type MemoryAfterGc } from './inspector.js';

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'server', 'src', 'main.js');
/** Start-up is opening SQLite and reading the bundle manifest; slow only on a loaded machine. */
const START_TIMEOUT_MS = 20_000;
/** A process that ignores SIGTERM this long after its drain time is broken; SIGKILL it. */
const STOP_GRACE_MS = 5_000;

export interface GatewayProcess extends GatewayAddress {
  readonly process: ManagedProcess;
  /** Parsed JSON lines of its stdout so far. */
  logs(): readonly Record<string, unknown>[];
  /** Everything it printed so far, for "no secret anywhere" checks. */
  rawLogs(): string;
  /** Resident set size now, from /proc, for memory-growth checks. */
  rssBytes(): number;
  /** The highest resident set size so far (VmHWM): unlike a sample, it does not depend on GC timing. */
  peakRssBytes(): number;
  /** Memory right after full collections, for leak checks; needs `{ inspect: true }`. */
  memoryAfterGc(): Promise<ProcessMemory>;
  /** CPU time used so far by all its threads, in ns (schedstat: finer than the 10 ms of utime). */
  cpuTimeNs(): number;
  /**
   * The process's exit, or a rejection after `timeoutMs`. (The timer also keeps this test process
   * alive while it waits: the managed child itself does not.)
   */
  exitWithin(timeoutMs: number): Promise<ProcessExit>;
  stop(): Promise<void>;
}

/** Memory after collecting, with the kinds of resident pages: anonymous (heaps) apart from mapped files and shared memory. */
export interface ProcessMemory extends MemoryAfterGc {
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly rssShmem: number;
}

export interface GatewayProcessOptions {
  /** Opens the Node inspector on a loopback port of its choosing, for `memoryAfterGc`. */
  readonly inspect?: boolean;
}

export async function startGatewayProcess(env: Record<string, string> = {}, options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-proc-'));
  const releaseDir = registerTempDir(dir);
  const port = await freePort();
  const controlToken = `control-${randomBytes(16).toString('hex')}`;
  const child = spawnManaged(process.execPath, [...(options.inspect ? ['--inspect=127.0.0.1:0'] : []), MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      PORTHOLE_DATABASE: `sqlite:${join(dir, 'porthole.db')}`,
      PORTHOLE_CONTROL_TOKEN: controlToken,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      // Where the other nodes of a cluster reach this one directly, as a deployment sets it.
      PORTHOLE_NODE_URL: `http://127.0.0.1:${port}`,
      ...env,
    },
  });
  await child.waitForLog('"event":"listening"', START_TIMEOUT_MS);
  const url = `http://127.0.0.1:${port}`;
  const inspectorUrl = options.inspect ? inspectorUrlIn(child.logs()) : null;
  if (options.inspect && inspectorUrl === null) throw new Error('the gateway did not print its inspector address');
  return {
    url,
    origin: url,
    controlToken,
    process: child,
    logs: () =>
      child
        .logs()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    rawLogs: () => child.logs(),
    async exitWithin(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the gateway did not exit within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([child.exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    peakRssBytes: () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    async memoryAfterGc() {
      if (inspectorUrl === null) throw new Error('memoryAfterGc needs startGatewayProcess(env, { inspect: true })');
      const memory = await memoryAfterGc(inspectorUrl);
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
      return { ...memory, rssAnon: kib('RssAnon'), rssFile: kib('RssFile'), rssShmem: kib('RssShmem') };
    },
    cpuTimeNs: () =>
      readdirSync(`/proc/${child.pid}/task`).reduce((sum, task) => {
        try {
          return sum + Number(readFileSync(`/proc/${child.pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
        } catch {
          return sum; // a thread that ended between the listing and the read
        }
      }, 0),
    async stop() {
      await child.stop(STOP_GRACE_MS);
      rmSync(dir, { recursive: true, force: true });
      releaseDir();
    },
  };
}
