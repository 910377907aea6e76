/**
 * VNC: full-screen Raw FramebufferUpdates from Xvnc (1280×800, VncAuth) read directly over TCP,
 * through the gateway (which answers VncAuth itself and offers the browser None), and through
 * Debian's websockify; then 1×1 update round trips. Legs alternate within each run.
 */
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway } from '../lib/gateway-process.js';
import { openRfbSession, tcpTransport, wsTransport, type RfbSession } from '../lib/rfb-client.js';
import { alternate, percentile, spread, type Spread } from '../lib/stats.js';
import { groupCpuSecondsOf, groupMinorFaultsOf, minorFaultsOf } from '../lib/proc.js';
import { startWebsockify } from '../lib/websockify.js';
import { startXvnc, type XvncHandle } from '../../test/helpers/xvnc.js';
import type { ManagedProcess } from '../../test/helpers/daemon.js';

const BUILD_ID = 'bench-vnc';
const WIDTH = 1280;
const HEIGHT = 800;
const FULL_THROUGHPUT_MS = 3_000;
const QUICK_THROUGHPUT_MS = 500;
const FULL_ROUND_TRIPS = 300;
const QUICK_ROUND_TRIPS = 50;

type VncLegName = 'direct' | 'gateway' | 'websockify';

interface VncLeg {
  readonly name: VncLegName;
  readonly session: RfbSession;
  /** CPU seconds of the process in the middle (none for direct). */
  readonly cpuSeconds: (() => number) | null;
  /** Its minor page faults so far. */
  readonly minorFaults: (() => number) | null;
}

interface VncLegRun {
  readonly run: number;
  readonly fps: number;
  readonly mbPerS: number;
  readonly cpuSecondsPerGB: number | null;
  /** Minor page faults of the process in the middle per MB relayed. */
  readonly minorFaultsPerMB: number | null;
  readonly roundTripP50Ms: number;
  readonly roundTripP99Ms: number;
}

export interface VncResult {
  readonly case: 'vnc';
  readonly date: string;
  readonly screen: string;
  readonly legs: Record<VncLegName, { fps: Spread; mbPerS: Spread; cpuSecondsPerGB: Spread | null; minorFaultsPerMB?: Spread | null; roundTripP50Ms: Spread; roundTripP99Ms: Spread; roundTripPooledP99Ms: number; runs: VncLegRun[] }>;
  readonly ratios: { gatewayToDirect: Spread; gatewayToWebsockify: Spread; addedRoundTripP99Ms: Spread; cpuGatewayToWebsockify?: Spread };
}

async function openLegs(gateway: BenchGateway, xvnc: XvncHandle, websockifyPort: number, websockifyPid: number): Promise<VncLeg[]> {
  const ticket = await gateway.mintTicket(BUILD_ID, 'vnc');
  return [
    { name: 'direct', session: await openRfbSession(await tcpTransport(xvnc.host, xvnc.port), xvnc.password), cpuSeconds: null, minorFaults: null },
    {
      name: 'gateway',
      session: await openRfbSession(await wsTransport(ticket.url, [ticket.protocol, `porthole.ticket.${ticket.ticket}`], gateway.origin), null),
      cpuSeconds: () => gateway.cpuSeconds(),
      minorFaults: () => minorFaultsOf(gateway.pid),
    },
    {
      name: 'websockify',
      session: await openRfbSession(await wsTransport(`ws://127.0.0.1:${websockifyPort}/`, ['binary'], null), xvnc.password),
      cpuSeconds: () => groupCpuSecondsOf(websockifyPid),
      minorFaults: () => groupMinorFaultsOf(websockifyPid),
    },
  ];
}

async function measureLeg(leg: VncLeg, run: number, throughputMs: number, roundTrips: number): Promise<VncLegRun & { times: number[] }> {
  const { session } = leg;
  await session.update(0, 0, session.width, session.height); // warm: the first frame may be slower
  const bytesBefore = session.bytesReceived();
  const cpuBefore = leg.cpuSeconds?.() ?? 0;
  const faultsBefore = leg.minorFaults?.() ?? 0;
  const started = performance.now();
  let frames = 0;
  while (performance.now() - started < throughputMs) {
    await session.update(0, 0, session.width, session.height);
    frames += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = session.bytesReceived() - bytesBefore;
  const cpu = leg.cpuSeconds ? leg.cpuSeconds() - cpuBefore : null;
  const faults = leg.minorFaults ? leg.minorFaults() - faultsBefore : null;
  const times: number[] = [];
  for (let i = 0; i < roundTrips; i++) {
    const sent = performance.now();
    await session.update(0, 0, 1, 1);
    times.push(performance.now() - sent);
  }
  return {
    run,
    fps: frames / seconds,
    mbPerS: bytes / seconds / 1e6,
    cpuSecondsPerGB: cpu === null ? null : cpu / (bytes / 1e9),
    minorFaultsPerMB: faults === null ? null : faults / (bytes / 1e6),
    roundTripP50Ms: percentile(times, 50),
    roundTripP99Ms: percentile(times, 99),
    times,
  };
}

export const vncCase: BenchCase = {
  name: 'vnc',
  title: 'VNC raw updates: gateway vs direct TCP vs websockify',
  async run(options: CaseOptions): Promise<VncResult> {
    const throughputMs = options.quick ? QUICK_THROUGHPUT_MS : FULL_THROUGHPUT_MS;
    const roundTrips = options.quick ? QUICK_ROUND_TRIPS : FULL_ROUND_TRIPS;
    const sshd = await startBenchSshd();
    const xvnc = await startXvnc({ width: WIDTH, height: HEIGHT });
    const gateway = await startBenchGateway();
    let websockify: ManagedProcess | null = null;
    let legs: VncLeg[] = [];
    try {
      await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
      const started = await startWebsockify(xvnc);
      websockify = started.proc;
      legs = await openLegs(gateway, xvnc, started.port, started.proc.pid);
      const runs: Record<VncLegName, (VncLegRun & { times: number[] })[]> = { direct: [], gateway: [], websockify: [] };
      for (let run = 0; run < options.runs; run++) {
        for (const leg of alternate(legs, run)) {
          const result = await measureLeg(leg, run, throughputMs, roundTrips);
          runs[leg.name].push(result);
          options.log(`  run ${run + 1} ${leg.name.padEnd(10)} ${result.fps.toFixed(1)} fps ${result.mbPerS.toFixed(0)} MB/s, 1×1 p50 ${result.roundTripP50Ms.toFixed(2)} p99 ${result.roundTripP99Ms.toFixed(2)} ms`);
        }
      }
      const summary = (name: VncLegName) => {
        const r = runs[name];
        const cpu = r.map((x) => x.cpuSecondsPerGB).filter((x): x is number => x !== null);
        const faults = r.map((x) => x.minorFaultsPerMB).filter((x): x is number => x !== null);
        return {
          fps: spread(r.map((x) => x.fps)),
          mbPerS: spread(r.map((x) => x.mbPerS)),
          cpuSecondsPerGB: cpu.length > 0 ? spread(cpu) : null,
          minorFaultsPerMB: faults.length > 0 ? spread(faults) : null,
          roundTripP50Ms: spread(r.map((x) => x.roundTripP50Ms)),
          roundTripP99Ms: spread(r.map((x) => x.roundTripP99Ms)),
          roundTripPooledP99Ms: percentile(r.flatMap((x) => x.times), 99),
          runs: r.map(({ times: _times, ...rest }) => rest),
        };
      };
      const per = (f: (g: VncLegRun, other: VncLegRun) => number, other: VncLegName): Spread => spread(runs.gateway.map((g, i) => f(g, runs[other][i] ?? g)));
      return {
        case: 'vnc',
        date: new Date().toISOString(),
        screen: `${WIDTH}×${HEIGHT}×32 bpp, Raw`,
        legs: { direct: summary('direct'), gateway: summary('gateway'), websockify: summary('websockify') },
        ratios: {
          gatewayToDirect: per((g, o) => g.mbPerS / o.mbPerS, 'direct'),
          gatewayToWebsockify: per((g, o) => g.mbPerS / o.mbPerS, 'websockify'),
          addedRoundTripP99Ms: per((g, o) => g.roundTripP99Ms - o.roundTripP99Ms, 'direct'),
          cpuGatewayToWebsockify: per((g, o) => (g.cpuSecondsPerGB ?? NaN) / (o.cpuSecondsPerGB ?? NaN), 'websockify'),
        },
      };
    } finally {
      for (const leg of legs) leg.session.close();
      await gateway.stop();
      await websockify?.stop(3_000);
      await xvnc.stop();
      await sshd.stop();
    }
  },
};
