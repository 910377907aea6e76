/**
 * Window close at scale: live terminal and screen connections to one build, whose access window is
 * then set to end at a known instant T. Measured: T → each client's close event, and T → each
 * upstream socket's close as seen by a timestamping relay (its own process) in front of sshd and
 * Xvnc. Both clocks are the epoch at sub-millisecond precision.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { startBenchGateway, startBenchSshd, type BenchGateway } from '../lib/gateway-process.js';
import { openRfbSession, wsTransport } from '../lib/rfb-client.js';
import { percentile, spread, type Spread } from '../lib/stats.js';
import { sleep, withDeadline } from '../lib/deadline.js';
import { startXvnc } from '../../test/helpers/xvnc.js';

const FULL_PER_KIND = 100;
const QUICK_PER_KIND = 10;
/** Terminals opened at once while setting up, like the idle ramp. */
const OPEN_CONCURRENCY = 16;
/**
 * Screens opened at once: Xvnc black-lists an address with more than 5 (BlacklistThreshold)
 * connections that have not finished authenticating ("Too many security failures").
 */
const SCREEN_OPEN_CONCURRENCY = 4;
/** The window ends this long after the last connection is up: the enforcer arms its timer. */
const WINDOW_END_DELAY_MS = 2_000;
/** Everything must be closed by then; otherwise the run fails instead of waiting forever. */
const CLOSE_DEADLINE_MS = 30_000;
const RELAY_CHILD = resolve(import.meta.dirname, '..', 'lib', 'relay-child.ts');

const nowMs = (): number => performance.timeOrigin + performance.now();

interface CloseRun {
  readonly run: number;
  readonly connections: number;
  readonly clientP50Ms: number;
  readonly clientP99Ms: number;
  readonly clientMaxMs: number;
  readonly upstreamP50Ms: number;
  readonly upstreamP99Ms: number;
  readonly upstreamMaxMs: number;
  readonly closeCodes: Record<string, number>;
}

export interface WindowCloseResult {
  readonly case: 'close';
  readonly date: string;
  readonly perKind: number;
  readonly clientP99Ms: Spread;
  readonly upstreamP99Ms: Spread;
  readonly clientP50Ms: Spread;
  readonly upstreamP50Ms: Spread;
  readonly runs: CloseRun[];
}

interface Relay {
  readonly ports: number[];
  report(): Promise<{ opened: number; closedAt: number[] }[]>;
  reset(): void;
  stop(): void;
}

async function startRelay(targets: { host: string; port: number }[]): Promise<Relay> {
  const child = spawn(process.execPath, ['--import', 'tsx', RELAY_CHILD, JSON.stringify(targets)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await withDeadline('relay start', 20_000, () =>
    new Promise<number[]>((done) => {
      child.once('message', (m: { ports: number[] }) => done(m.ports));
    }), () => child.kill('SIGKILL'));
  return {
    ports,
    report: () =>
      withDeadline('relay report', 10_000, () =>
        new Promise((done) => {
          child.once('message', (m: { stats: { opened: number; closedAt: number[] }[] }) => done(m.stats));
          child.send({ type: 'report' });
        })),
    reset: () => child.send({ type: 'reset' }),
    stop: () => child.kill('SIGKILL'),
  };
}

async function openMany<T>(count: number, concurrency: number, open: () => Promise<T>): Promise<T[]> {
  const opened: T[] = [];
  while (opened.length < count) {
    opened.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, count - opened.length) }, open))));
  }
  return opened;
}

async function oneRun(run: number, gateway: BenchGateway, buildId: string, perKind: number, relay: Relay, log: (m: string) => void): Promise<CloseRun> {
  relay.reset();
  const terminals = await openMany(perKind, OPEN_CONCURRENCY, () => gateway.openTerminal(buildId, { cols: 80, rows: 24 }));
  const screens = await openMany(perKind, SCREEN_OPEN_CONCURRENCY, async () => {
    const ticket = await gateway.mintTicket(buildId, 'vnc');
    const transport = await wsTransport(ticket.url, [ticket.protocol, `porthole.ticket.${ticket.ticket}`], gateway.origin);
    // Through the RFB greeting, so the gateway has spliced the VM connection.
    await openRfbSession(transport, null);
    return transport.ws;
  });
  const all = [...terminals, ...screens];
  const clientClosed: number[] = [];
  const codes: Record<string, number> = {};
  const allClosed = Promise.all(
    all.map(
      (ws) =>
        new Promise<void>((done) => {
          ws.once('close', (code) => {
            clientClosed.push(nowMs());
            codes[code] = (codes[code] ?? 0) + 1;
            done();
          });
        }),
    ),
  );
  const windowEnd = nowMs() + WINDOW_END_DELAY_MS;
  await gateway.closeWindowAt(buildId, new Date(windowEnd));
  await withDeadline('window close', CLOSE_DEADLINE_MS, () => allClosed, () => all.forEach((ws) => ws.terminate()));
  // Upstream closes can trail the client's by a little; wait until the relay has seen them all.
  let upstream: number[] = [];
  await withDeadline('upstream close', CLOSE_DEADLINE_MS, async () => {
    for (;;) {
      const stats = await relay.report();
      upstream = stats.flatMap((s) => s.closedAt);
      if (upstream.length >= all.length) return;
      await sleep(100);
    }
  });
  const client = clientClosed.map((t) => t - windowEnd);
  const up = upstream.map((t) => t - windowEnd);
  const result: CloseRun = {
    run,
    connections: all.length,
    clientP50Ms: percentile(client, 50),
    clientP99Ms: percentile(client, 99),
    clientMaxMs: Math.max(...client),
    upstreamP50Ms: percentile(up, 50),
    upstreamP99Ms: percentile(up, 99),
    upstreamMaxMs: Math.max(...up),
    closeCodes: codes,
  };
  log(`  run ${run + 1}: ${all.length} connections; client close p50 ${result.clientP50Ms.toFixed(1)} p99 ${result.clientP99Ms.toFixed(1)} ms; upstream p50 ${result.upstreamP50Ms.toFixed(1)} p99 ${result.upstreamP99Ms.toFixed(1)} ms; codes ${JSON.stringify(codes)}`);
  return result;
}

export const windowCloseCase: BenchCase = {
  name: 'close',
  title: 'Window close with live terminal and screen connections',
  async run(options: CaseOptions): Promise<WindowCloseResult> {
    const perKind = options.quick ? QUICK_PER_KIND : FULL_PER_KIND;
    const sshd = await startBenchSshd();
    const xvnc = await startXvnc({ width: 1280, height: 800 });
    const gateway = await startBenchGateway();
    const relay = await startRelay([
      { host: sshd.host, port: sshd.port },
      { host: xvnc.host, port: xvnc.port },
    ]);
    try {
      const key = sshd.keyUser.privateKey ?? '';
      const runs: CloseRun[] = [];
      const runCount = Math.min(options.runs, 3);
      for (let run = 0; run < runCount; run++) {
        const buildId = `bench-close-${run}`;
        await gateway.registerBuild(buildId, {
          ssh: { host: '127.0.0.1', port: relay.ports[0] ?? 0, username: sshd.keyUser.username, privateKey: key, hostKey: sshd.hostKeyFingerprint },
          vnc: { host: '127.0.0.1', port: relay.ports[1] ?? 0, password: xvnc.password },
        });
        runs.push(await oneRun(run, gateway, buildId, perKind, relay, options.log));
      }
      return {
        case: 'close',
        date: new Date().toISOString(),
        perKind,
        clientP99Ms: spread(runs.map((r) => r.clientP99Ms)),
        upstreamP99Ms: spread(runs.map((r) => r.upstreamP99Ms)),
        clientP50Ms: spread(runs.map((r) => r.clientP50Ms)),
        upstreamP50Ms: spread(runs.map((r) => r.upstreamP50Ms)),
        runs,
      };
    } finally {
      relay.stop();
      await gateway.stop();
      await xvnc.stop();
      await sshd.stop();
    }
  },
};
