/**
 * Idle SSH sessions: the gateway's RSS and V8 heap (after a full GC) at each step of a ramp of open
 * terminal sessions, a straight line through them for the cost per session, how many sessions fit
 * in 512 MiB, and keystroke echo through one more session at the top of the ramp.
 */
import type { WebSocket } from 'ws';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd, type GatewayMemory } from '../lib/gateway-process.js';
import { gatewayEchoLeg, measureEcho } from '../lib/echo-legs.js';
import { linearFit, percentile, spread, type LinearFit, type Spread } from '../lib/stats.js';
import { sleep } from '../lib/deadline.js';

const BUILD_ID = 'bench-idle';
/** The 100/500/1,000 for the line, then 2,000 to check the line's promise directly. */
const FULL_STEPS = [100, 500, 1000, 2000] as const;
const QUICK_STEPS = [10, 30, 50] as const;
/** Steps up to this many sessions make the fitted line; larger ones verify it. */
const FIT_MAX_SESSIONS = 1000;
/** Sessions opened at once: enough to keep sshd and the gateway busy, few enough not to trip MaxStartups. */
const OPEN_CONCURRENCY = 16;
/** After a step, let keepalives, pings and late allocations settle before measuring. */
const SETTLE_MS = 2_000;
const MEMORY_SAMPLES_PER_STEP = 3;
const FULL_ECHO_KEYSTROKES = 500;
const QUICK_ECHO_KEYSTROKES = 50;
const BUDGET_BYTES = 512 * 2 ** 20;

interface Step {
  readonly sessions: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  readonly openSeconds: number;
}

export interface IdleResult {
  readonly case: 'idle';
  readonly date: string;
  readonly baseline: { rssMiB: number; heapUsedMiB: number };
  readonly steps: Step[];
  readonly rssPerSessionKiB: number;
  readonly heapPerSessionKiB: number;
  readonly externalPerSessionKiB: number;
  readonly rssFit: LinearFit;
  readonly heapFit: LinearFit;
  /** Sessions that fit in 512 MiB of gateway RSS, on the fitted line. */
  readonly sessionsWithin512MiB: number;
  readonly echoAtTop: { sessions: number; n: number; p50Ms: number; p99Ms: number; maxMs: number; roundP99Ms: Spread };
  readonly openRatePerSecond: number;
}

const MiB = 2 ** 20;

function stepSizes(quick: boolean): number[] {
  const fromEnv = process.env['BENCH_IDLE_STEPS'];
  if (fromEnv) return fromEnv.split(',').map(Number).filter((n) => n > 0);
  return [...(quick ? QUICK_STEPS : FULL_STEPS)];
}

export const idleCase: BenchCase = {
  name: 'idle',
  title: 'Idle SSH sessions: memory per session and echo at load',
  async run(options: CaseOptions): Promise<IdleResult> {
    const steps = stepSizes(options.quick);
    const sshd = await startBenchSshd();
    const gateway = await startBenchGateway();
    const sockets: WebSocket[] = [];
    try {
      await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd) });
      const measure = async (): Promise<GatewayMemory> => {
        await sleep(SETTLE_MS);
        const samples: GatewayMemory[] = [];
        for (let i = 0; i < MEMORY_SAMPLES_PER_STEP; i++) samples.push(await gateway.memory());
        // The median sample: one GC more or less should not move the line.
        const pick = (f: (m: GatewayMemory) => number): number => percentile(samples.map(f), 50, 'interpolate');
        return { rss: pick((m) => m.rss), heapUsed: pick((m) => m.heapUsed), heapTotal: pick((m) => m.heapTotal), external: pick((m) => m.external), arrayBuffers: pick((m) => m.arrayBuffers) };
      };
      const base = await measure();
      const measured: Step[] = [];
      const rampStarted = performance.now();
      for (const target of steps) {
        const started = performance.now();
        let failures = 0;
        while (sockets.length < target) {
          const batch = Math.min(OPEN_CONCURRENCY, target - sockets.length);
          const opened = await Promise.allSettled(Array.from({ length: batch }, () => gateway.openTerminal(BUILD_ID, { cols: 80, rows: 24 })));
          for (const o of opened) {
            if (o.status === 'fulfilled') sockets.push(o.value);
            else failures += 1;
          }
          if (failures > 10) throw new Error(`sessions keep failing to open: ${opened.find((o) => o.status === 'rejected')?.reason}`);
        }
        const openSeconds = (performance.now() - started) / 1000;
        const memory = await measure();
        const step = { sessions: sockets.length, rssMiB: memory.rss / MiB, heapUsedMiB: memory.heapUsed / MiB, externalMiB: memory.external / MiB, openSeconds };
        measured.push(step);
        options.log(`  ${step.sessions} sessions: RSS ${step.rssMiB.toFixed(1)} MiB, heap ${step.heapUsedMiB.toFixed(1)} MiB, external ${step.externalMiB.toFixed(1)} MiB (opened in ${openSeconds.toFixed(1)} s)`);
      }
      const openRatePerSecond = sockets.length / ((performance.now() - rampStarted) / 1000);
      const fitted = measured.filter((s) => s.sessions <= FIT_MAX_SESSIONS);
      const xs = fitted.map((s) => s.sessions);
      const rssFit = linearFit(xs, fitted.map((s) => s.rssMiB * MiB));
      const heapFit = linearFit(xs, fitted.map((s) => s.heapUsedMiB * MiB));
      const externalFit = linearFit(xs, fitted.map((s) => s.externalMiB * MiB));

      const echo = await gatewayEchoLeg(gateway, BUILD_ID);
      const keystrokes = options.quick ? QUICK_ECHO_KEYSTROKES : FULL_ECHO_KEYSTROKES;
      const rounds: number[][] = [];
      for (let r = 0; r < options.runs; r++) rounds.push(await measureEcho(echo, Math.ceil(keystrokes / options.runs)));
      await echo.close();
      const all = rounds.flat();
      const echoAtTop = { sessions: sockets.length + 1, n: all.length, p50Ms: percentile(all, 50), p99Ms: percentile(all, 99), maxMs: Math.max(...all), roundP99Ms: spread(rounds.map((r) => percentile(r, 99))) };
      options.log(`  echo with ${echoAtTop.sessions} sessions: p50 ${echoAtTop.p50Ms.toFixed(2)} ms, p99 ${echoAtTop.p99Ms.toFixed(2)} ms`);
      return {
        case: 'idle',
        date: new Date().toISOString(),
        baseline: { rssMiB: base.rss / MiB, heapUsedMiB: base.heapUsed / MiB },
        steps: measured,
        rssPerSessionKiB: rssFit.slope / 1024,
        heapPerSessionKiB: heapFit.slope / 1024,
        externalPerSessionKiB: externalFit.slope / 1024,
        rssFit,
        heapFit,
        sessionsWithin512MiB: Math.floor((BUDGET_BYTES - rssFit.intercept) / rssFit.slope),
        echoAtTop,
        openRatePerSecond,
      };
    } finally {
      for (const ws of sockets) ws.terminate();
      await gateway.stop();
      await sshd.stop();
    }
  },
};
