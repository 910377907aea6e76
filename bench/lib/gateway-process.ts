/**
 * Bench fixtures: the built gateway as its own process (so its CPU and RSS are its alone), builds
 * registered through the control API, tickets minted with a signed-in cookie the way the page does,
 * and a bench sshd with raised connection limits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { startSshd, type SshdHandle } from '../../test/helpers/sshd.js';
import { freePort, waitForPort } from '../../test/helpers/ports.js';
import { type ServerControlMessage } from '../../shared/src/protocol/ssh-v1.js';
import { cpuSecondsOf, rssBytesOf } from './proc.js';
import { withDeadline } from './deadline.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

const GATEWAY_START_TIMEOUT_MS = 20_000;
/** SIGTERM lets the gateway close its sessions (and write a --cpu-prof); past this it is killed. */
const GATEWAY_STOP_GRACE_MS = 15_000;
/** A memory probe answers within a GC; a wedged gateway must not hang the bench. */
const PROBE_TIMEOUT_MS = 30_000;
/** A shell opens in well under a second; the deadline only keeps a broken run from hanging. */
const TERMINAL_READY_TIMEOUT_MS = 30_000;
const BENCH_EMAIL = 'bench@example.test';
const BENCH_PASSWORD = 'bench-password';
/** The bench user, for signing in through the real login form in Chromium. */
export const BENCH_CREDENTIALS = { email: BENCH_EMAIL, password: BENCH_PASSWORD } as const;
export const BENCH_APP = 'bench';
/** The config's ceiling: the close and idle cases open up to 2,000 connections as one user. */
const BENCH_CONNECTIONS_PER_USER = 10_000;

/**
 * Preloaded into the gateway (a data: URL, so the product is untouched): answers memory probes
 * over the IPC channel after two full GCs, so heap figures are live objects, not garbage.
 */
const MEMORY_PROBE = `
process.on('message', (m) => {
  if (!m || m.type !== 'memory') return;
  if (globalThis.gc) { globalThis.gc(); globalThis.gc(); }
  process.send({ type: 'memory', id: m.id, usage: process.memoryUsage() });
});
process.channel?.unref();
// The bench went away (crashed, killed): do not outlive it.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
`;

export interface GatewayMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly privateKey: string;
  readonly hostKey: string;
}

export interface VncEndpoint {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

export interface Ticket {
  readonly ticket: string;
  readonly url: string;
  readonly protocol: string;
}

export interface BenchGateway {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly origin: string;
  /** The signed-in bench user's session cookie, for requests made the way the page makes them. */
  readonly cookie: string;
  /** Another member of the bench app (a developer), signed in: its session cookie. */
  signInMember(userId: string): Promise<string>;
  /** Another member of the bench app (a developer), not signed in: its credentials, for a browser's sign-in form. */
  addMember(userId: string): Promise<{ readonly email: string; readonly password: string }>;
  cpuSeconds(): number;
  rssBytes(): number;
  /** RSS and V8 heap after a full GC, asked of the gateway itself. */
  memory(): Promise<GatewayMemory>;
  /** The gateway's Prometheus metrics, as text. */
  metrics(): Promise<string>;
  registerBuild(buildId: string, remoteAccess: { ssh: SshEndpoint; vnc?: VncEndpoint }, startedAt?: Date): Promise<void>;
  /** Finishes the build so that its access window closes exactly at `closesAt` (grace included). */
  closeWindowAt(buildId: string, closesAt: Date): Promise<void>;
  mintTicket(buildId: string, kind: 'ssh' | 'vnc'): Promise<Ticket>;
  /** A terminal WebSocket opened like the page does: ticket, first resize, wait for "ready". */
  openTerminal(buildId: string, size?: { cols: number; rows: number }): Promise<WebSocket>;
  openWebSocket(ticket: Ticket): Promise<WebSocket>;
  stop(): Promise<void>;
}

export interface StartGatewayOptions {
  /** Extra node flags, e.g. --cpu-prof (BENCH_GATEWAY_NODE_ARGS adds to these). */
  readonly nodeArgs?: readonly string[];
  /** Extra gateway settings, e.g. PORTHOLE_RESUME_BUFFER_BYTES. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Where browsers reach the gateway when that is not its own port (a relay in front, e.g. the
   * link simulator): its PORTHOLE_PUBLIC_URL, and the Origin the bench's own requests carry.
   */
  readonly publicOrigin?: string;
}

/** The built gateway; BENCH_GATEWAY_DIST runs another build (e.g. a copy made before a change). */
function gatewayDist(): string {
  return resolve(process.env['BENCH_GATEWAY_DIST'] ?? resolve(import.meta.dirname, '..', '..', 'dist'));
}

/** Minutes of access after a build finishes; closeWindowAt() back-dates the finish by this much. */
const GRACE_MINUTES = 10;

export async function startBenchGateway(options: StartGatewayOptions = {}): Promise<BenchGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const publicOrigin = options.publicOrigin ?? origin;
  const token = randomBytes(24).toString('hex');
  const extraArgs = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter((a) => a.length > 0);
  const child = spawn(
    process.execPath,
    ['--expose-gc', `--import=data:text/javascript,${encodeURIComponent(MEMORY_PROBE)}`, ...(options.nodeArgs ?? []), ...extraArgs, resolve(gatewayDist(), 'server', 'src', 'main.js')],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        PORTHOLE_DATABASE: `sqlite:${join(dir, 'bench.db')}`,
        PORTHOLE_CONTROL_TOKEN: token,
        PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
        PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
        PORTHOLE_GRACE_MINUTES: String(GRACE_MINUTES),
        // One bench user opens hundreds of connections at once; the per-user cap is not what is measured.
        PORTHOLE_MAX_CONNECTIONS_PER_USER: String(BENCH_CONNECTIONS_PER_USER),
        PORTHOLE_LOG_LEVEL: process.env['BENCH_GATEWAY_LOG_LEVEL'] ?? 'warn',
        ...(options.publicOrigin === undefined ? {} : { PORTHOLE_PUBLIC_URL: options.publicOrigin }),
        ...options.env,
      },
      // Logs (stdout) only when asked for: BENCH_GATEWAY_LOG_LEVEL=info to debug a case.
      stdio: ['ignore', process.env['BENCH_GATEWAY_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    },
  );
  const pid = child.pid ?? -1;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await waitForPort('127.0.0.1', port, GATEWAY_START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  const api = async (method: string, path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${origin}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  const signIn = async (email: string): Promise<string> => {
    const res = await fetch(`${origin}/auth/login`, { method: 'POST', headers: { Origin: publicOrigin, 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password: BENCH_PASSWORD }) });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    if (!cookie) throw new Error(`bench sign-in of ${email} failed: ${res.status}`);
    return cookie;
  };
  await api('PUT', '/users/bench', { email: BENCH_EMAIL, password: BENCH_PASSWORD });
  await api('PUT', `/apps/${BENCH_APP}`, { name: 'Bench' });
  await api('PUT', `/apps/${BENCH_APP}/members/bench`, { role: 'owner' });
  const cookie = await signIn(BENCH_EMAIL);

  let probeId = 0;
  const gateway: BenchGateway = {
    process: child,
    pid,
    origin,
    cookie,
    async signInMember(userId) {
      return await signIn((await gateway.addMember(userId)).email);
    },
    async addMember(userId) {
      const email = `${userId}@example.test`;
      await api('PUT', `/users/${userId}`, { email, password: BENCH_PASSWORD });
      await api('PUT', `/apps/${BENCH_APP}/members/${userId}`, { role: 'developer' });
      return { email, password: BENCH_PASSWORD };
    },
    cpuSeconds: () => cpuSecondsOf(pid),
    rssBytes: () => rssBytesOf(pid),
    memory: () =>
      withDeadline('gateway memory probe', PROBE_TIMEOUT_MS, () => {
        const id = ++probeId;
        return new Promise<GatewayMemory>((done) => {
          const onMessage = (message: { type?: string; id?: number; usage?: GatewayMemory }): void => {
            if (message.type !== 'memory' || message.id !== id || !message.usage) return;
            child.off('message', onMessage);
            done(message.usage);
          };
          child.on('message', onMessage);
          child.send({ type: 'memory', id });
        });
      }),
    async metrics() {
      const res = await fetch(`${origin}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`metrics: ${res.status} ${await res.text()}`);
      return await res.text();
    },
    async registerBuild(buildId, remoteAccess, startedAt = new Date(Date.now() - 60 * 60_000)) {
      await api('PUT', `/builds/${buildId}`, {
        appId: BENCH_APP,
        stack: remoteAccess.vnc ? 'macos' : 'linux',
        status: 'running',
        startedAt: startedAt.toISOString(),
        remoteAccess,
      });
    },
    async closeWindowAt(buildId, closesAt) {
      const finishedAt = new Date(closesAt.getTime() - GRACE_MINUTES * 60_000);
      await api('POST', `/builds/${buildId}/finish`, { finishedAt: finishedAt.toISOString() });
    },
    async mintTicket(buildId, kind) {
      const res = await fetch(`${origin}/api/v1/builds/${buildId}/connections`, { method: 'POST', headers: { Origin: publicOrigin, Cookie: cookie, 'Content-Type': 'application/json' }, body: JSON.stringify({ kind }) });
      if (res.status !== 201) throw new Error(`ticket refused: ${res.status} ${await res.text()}`);
      return (await res.json()) as Ticket;
    },
    async openWebSocket(ticket) {
      const ws = new WebSocket(ticket.url, [ticket.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${ticket.ticket}`], { headers: { Origin: publicOrigin }, perMessageDeflate: false });
      await new Promise((done, fail) => {
        ws.once('open', done);
        ws.once('error', fail);
      });
      return ws;
    },
    async openTerminal(buildId, size = { cols: 120, rows: 40 }) {
      const ws = await gateway.openWebSocket(await gateway.mintTicket(buildId, 'ssh'));
      ws.send(JSON.stringify({ type: 'resize', ...size }));
      await withDeadline(
        'terminal ready',
        TERMINAL_READY_TIMEOUT_MS,
        () =>
          new Promise<void>((done, fail) => {
            const onMessage = (data: Buffer, isBinary: boolean): void => {
              if (isBinary) return;
              const message = JSON.parse(data.toString('utf8')) as ServerControlMessage;
              if (message.type === 'ready') {
                ws.off('message', onMessage);
                done();
              } else if (message.type === 'error') fail(new Error(`terminal refused: ${message.message}`));
            };
            ws.on('message', onMessage);
            ws.once('close', (code, reason) => fail(new Error(`terminal closed ${code} ${reason.toString('utf8')}`)));
          }),
        () => ws.terminate(),
      );
      return ws;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), GATEWAY_STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return gateway;
}

/** Enough unauthenticated connections in flight for the idle-session ramp, and many channels. */
const BENCH_SSHD_CONFIG = ['MaxStartups 2000:30:4000', 'MaxSessions 100', 'Compression no'];

export async function startBenchSshd(): Promise<SshdHandle> {
  return await startSshd({ extraConfig: BENCH_SSHD_CONFIG });
}

/** The key user's endpoint with its host key registered: no password hashing on sshd per login. */
export function keyEndpoint(sshd: SshdHandle): SshEndpoint {
  const key = sshd.keyUser.privateKey;
  if (!key) throw new Error('the bench sshd has no key user');
  return { host: sshd.host, port: sshd.port, username: sshd.keyUser.username, privateKey: key, hostKey: sshd.hostKeyFingerprint };
}
