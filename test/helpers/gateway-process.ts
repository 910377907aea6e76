/**
 * The built gateway (dist/) as its own process, for tests that measure its memory, signal it, or
 * must not share an event loop with the attacker. Logs are captured for secret scans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, waitForPort } from './ports.js';

const START_TIMEOUT_MS = 15_000;

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly origin: string;
  readonly controlToken: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far (pino JSON lines and anything else). */
  logs(): string;
  rssBytes(): number;
  /** Calls the control API; throws unless 2xx. */
  control(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Signs in through the JSON login and returns the session cookie. */
  signIn(email: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startGatewayProcess(env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-gwp-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const controlToken = `control-${randomBytes(16).toString('hex')}`;
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '..', '..', 'dist', 'server', 'src', 'main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      PORTHOLE_DATABASE: `sqlite:${join(dir, 'porthole.db')}`,
      PORTHOLE_CONTROL_TOKEN: controlToken,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  try {
    await waitForPort('127.0.0.1', port, START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`gateway did not start: ${String(error)}\n${logs}`);
  }
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${origin}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${controlToken}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : null;
  };
  return {
    child,
    origin,
    controlToken,
    exited,
    logs: () => logs,
    rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    control,
    async signIn(email, password) {
      const res = await fetch(`${origin}/auth/login`, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }) });
      if (res.status !== 204) throw new Error(`sign-in failed: ${res.status}`);
      return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
