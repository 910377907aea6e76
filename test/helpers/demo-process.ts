/**
 * The README's demo (scripts/demo.ts) as its own process, on ports of its choosing and in a
 * temporary directory, for tests of what a person trying it sees: the banner, the log file, the
 * embedding example. Needs `npm run build` first, as `npm run demo` does it (npm test does too).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerTempDir, spawnManaged, type ManagedProcess } from './daemon.js';
import type { GatewayAddress } from './gateway.js';

const DEMO_SCRIPT = resolve(import.meta.dirname, '..', '..', 'scripts', 'demo.ts');
const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** sshd, Xvnc with its desktop, and two argon2 password hashes; slow only on a loaded machine. */
const DEMO_START_TIMEOUT_MS = 90_000;
/** The demo stops the gateway, the VM's daemons and two servers; past this it is stuck. */
const DEMO_STOP_GRACE_MS = 10_000;
const BANNER_END = 'Press Ctrl-C to stop everything.';

export interface DemoProcess {
  readonly process: ManagedProcess;
  /** The gateway, as the banner names it, with the control token the banner prints. */
  readonly gateway: GatewayAddress;
  readonly exampleOrigin: string;
  readonly owner: { readonly email: string; readonly password: string };
  /** Where the banner says the gateway's log is. */
  readonly logFile: string;
  /** Everything the demo printed to its console (stdout and stderr). */
  consoleOutput(): string;
  /** The log file's lines so far, parsed. */
  logLines(): readonly Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startDemoProcess(): Promise<DemoProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-demo-'));
  const releaseDir = registerTempDir(dir);
  const child = spawnManaged(process.execPath, ['--import', 'tsx', DEMO_SCRIPT], {
    cwd: REPO_ROOT,
    // Free ports: the test must not collide with a demo someone runs on 8080, nor with other tests.
    env: { ...process.env, PORT: '0', PORTHOLE_DEMO_EXAMPLE_PORT: '0', PORTHOLE_DEMO_DIR: join(dir, 'demo') },
  });
  try {
    await child.waitForLog(BANNER_END, DEMO_START_TIMEOUT_MS);
  } catch (error) {
    await child.stop(DEMO_STOP_GRACE_MS);
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
    throw error;
  }
  const banner = child.logs();
  const field = (pattern: RegExp, what: string): string => {
    const found = pattern.exec(banner)?.[1];
    if (found === undefined) throw new Error(`the demo's banner has no ${what}:\n${banner}`);
    return found;
  };
  const gatewayOrigin = field(/Porthole demo is running: (http:\/\/[^/\s]+)\//, 'gateway URL');
  const logFile = resolve(REPO_ROOT, field(/tail -f (\S+)/, 'log file'));
  return {
    process: child,
    gateway: { url: gatewayOrigin, origin: gatewayOrigin, controlToken: field(/Authorization: Bearer ([\w-]+)/, 'control token') },
    exampleOrigin: field(/Embedding example[^:]*: (http:\/\/[^/\s]+)\//, 'embedding example URL'),
    owner: { email: field(/Owner[^:]*:\s+(\S+@\S+)/, 'owner email'), password: field(/Owner[^\n]*password (\S+)/, 'owner password') },
    logFile,
    consoleOutput: () => child.logs(),
    logLines: () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        // The last piece is empty, or a line still being written.
        .slice(0, -1)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop() {
      await child.stop(DEMO_STOP_GRACE_MS);
      rmSync(dir, { recursive: true, force: true });
      releaseDir();
    },
  };
}
