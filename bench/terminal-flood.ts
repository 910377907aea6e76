/**
 * `yes` flood through the gateway: gateway RSS growth over the flood, and the time from Ctrl-C to
 * the shell prompt, with a WebSocket client that acknowledges output at a browser-like parse rate.
 *
 *   npm run build && node --import tsx bench/terminal-flood.ts [seconds]
 *
 * The gateway runs as its own process (the built `npm start` entry) so its RSS is its alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { startSshd } from '../test/helpers/sshd.js';
import { freePort, waitForPort } from '../test/helpers/ports.js';

/** xterm.js parses 5–35 MB/s; the middle of that range stands in for a browser tab. */
const BROWSER_PARSE_BYTES_PER_S = 20 * 1024 * 1024;
const DEFAULT_FLOOD_S = 30;
const SAMPLE_INTERVAL_MS = 250;
const GATEWAY_START_TIMEOUT_MS = 15_000;
const PROMPT_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const floodSeconds = Number(process.argv[2] ?? DEFAULT_FLOOD_S);
  const sshd = await startSshd();
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const token = randomBytes(24).toString('hex');
  const gateway = spawn(process.execPath, [resolve(import.meta.dirname, '..', 'dist', 'server', 'src', 'main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      PORTHOLE_DATABASE: `sqlite:${join(dir, 'bench.db')}`,
      PORTHOLE_CONTROL_TOKEN: token,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitForPort('127.0.0.1', port, GATEWAY_START_TIMEOUT_MS);
    const api = (method: string, path: string, body: unknown): Promise<Response> =>
      fetch(`${origin}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const pw = sshd.passwordUser;
    if (!pw?.password) throw new Error('the bench needs root for the sshd password user');
    await api('PUT', '/users/bench', { email: 'bench@example.test', password: 'bench-password' });
    await api('PUT', '/apps/bench', { name: 'Bench' });
    await api('PUT', '/apps/bench/members/bench', { role: 'owner' });
    await api('PUT', '/builds/bench', {
      appId: 'bench', stack: 'linux', status: 'running', startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { host: sshd.host, port: sshd.port, username: pw.username, password: pw.password, hostKey: sshd.hostKeyFingerprint } },
    });
    const login = await fetch(`${origin}/auth/login`, { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.test', password: 'bench-password' }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const minted = (await (await fetch(`${origin}/api/v1/builds/bench/connections`, { method: 'POST', headers: { Origin: origin, Cookie: cookie, 'Content-Type': 'application/json' }, body: '{"kind":"ssh"}' })).json()) as { ticket: string; url: string; protocol: string };
    const ws = new WebSocket(minted.url, [minted.protocol, `porthole.ticket.${minted.ticket}`], { headers: { Origin: origin } });
    await new Promise((done, fail) => { ws.once('open', done); ws.once('error', fail); });
    ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));

    // A browser-like consumer: output is "parsed" at a fixed rate and acknowledged when parsed.
    let parsedUntil = performance.now();
    let received = 0;
    let tail = '';
    const onParsed: (() => void)[] = [];
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      received += data.length;
      parsedUntil = Math.max(parsedUntil, performance.now()) + (data.length / BROWSER_PARSE_BYTES_PER_S) * 1000;
      setTimeout(() => {
        tail = (tail + data.toString('latin1')).slice(-4096);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
        for (const f of onParsed.splice(0)) f();
      }, Math.max(0, parsedUntil - performance.now()));
    });
    const waitFor = (pattern: RegExp): Promise<void> =>
      new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`timed out waiting for ${String(pattern)}`)), PROMPT_TIMEOUT_MS);
        const check = (): void => {
          if (pattern.test(tail)) {
            clearTimeout(timer);
            done();
          } else onParsed.push(check);
        };
        check();
      });
    await waitFor(/\$ $/);

    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gateway.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    const before = rss();
    ws.send(Buffer.from('yes porthole-bench-flood\r'));
    const samples: number[] = [];
    const started = performance.now();
    const receivedAtStart = received;
    await new Promise<void>((done) => {
      const sampler = setInterval(() => {
        samples.push(rss());
        if (performance.now() - started >= floodSeconds * 1000) {
          clearInterval(sampler);
          done();
        }
      }, SAMPLE_INTERVAL_MS);
    });
    const floodBytes = received - receivedAtStart;
    tail = '';
    const ctrlC = performance.now();
    ws.send(Buffer.from([3]));
    await waitFor(/\^C[\s\S]*\$ $/);
    const promptMs = performance.now() - ctrlC;
    ws.close();

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      floodSeconds,
      browserParseBytesPerSecond: BROWSER_PARSE_BYTES_PER_S,
      throughputMBps: floodBytes / floodSeconds / 1e6,
      gatewayRssBeforeMiB: before / 2 ** 20,
      gatewayRssPeakMiB: Math.max(...samples) / 2 ** 20,
      gatewayRssGrowthMiB: (Math.max(...samples) - before) / 2 ** 20,
      ctrlCToPromptMs: promptMs,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = resolve(import.meta.dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'terminal-flood.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    gateway.kill('SIGTERM');
    await sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
