/**
 * Bench fixtures: the built gateway as its own process (so its CPU and RSS are its alone), a
 * registered build pointing at a real sshd, and terminal WebSockets opened like the page does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { passwordEndpoint, type SshdHandle } from '../../test/helpers/sshd.js';
import { freePort, waitForPort } from '../../test/helpers/ports.js';

const GATEWAY_START_TIMEOUT_MS = 15_000;
const BENCH_EMAIL = 'bench@example.test';
const BENCH_PASSWORD = 'bench-password';

export interface BenchGateway {
  readonly process: ChildProcess;
  readonly origin: string;
  /** A signed-in session cookie for the bench user. */
  readonly cookie: string;
  rssBytes(): number;
  /** User + system CPU seconds the gateway process has used so far. */
  cpuSeconds(): number;
  openTerminal(size?: { cols: number; rows: number }): Promise<WebSocket>;
  stop(): Promise<void>;
}

export async function startBenchGateway(sshd: SshdHandle): Promise<BenchGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const token = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '..', '..', 'dist', 'server', 'src', 'main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      PORTHOLE_DATABASE: `sqlite:${join(dir, 'bench.db')}`,
      PORTHOLE_CONTROL_TOKEN: token,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort('127.0.0.1', port, GATEWAY_START_TIMEOUT_MS);
  const api = async (method: string, path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${origin}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  await api('PUT', '/users/bench', { email: BENCH_EMAIL, password: BENCH_PASSWORD });
  await api('PUT', '/apps/bench', { name: 'Bench' });
  await api('PUT', '/apps/bench/members/bench', { role: 'owner' });
  await api('PUT', '/builds/bench', {
    appId: 'bench',
    stack: 'linux',
    status: 'running',
    startedAt: new Date().toISOString(),
    remoteAccess: { ssh: passwordEndpoint(sshd) },
  });
  const signIn = await fetch(`${origin}/auth/login`, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ email: BENCH_EMAIL, password: BENCH_PASSWORD }) });
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const procStatus = (): string => readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const ticksPerSecond = 100;
  return {
    process: child,
    origin,
    cookie,
    rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(procStatus())?.[1] ?? 0) * 1024,
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / ticksPerSecond;
    },
    async openTerminal(size = { cols: 120, rows: 40 }) {
      const res = await fetch(`${origin}/api/v1/builds/bench/connections`, { method: 'POST', headers: { Origin: origin, Cookie: cookie, 'Content-Type': 'application/json' }, body: '{"kind":"ssh"}' });
      const minted = (await res.json()) as { ticket: string; url: string; protocol: string };
      const ws = new WebSocket(minted.url, [minted.protocol, `porthole.ticket.${minted.ticket}`], { headers: { Origin: origin } });
      await new Promise((done, fail) => {
        ws.once('open', done);
        ws.once('error', fail);
      });
      ws.send(JSON.stringify({ type: 'resize', ...size }));
      return ws;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
