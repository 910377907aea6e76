/**
 * Terminal output throughput and client CPU per GB: the same flood in a PTY shell, read through
 * the gateway (browser-like acking WebSocket client), by `ssh -tt`, and by the ssh2 library
 * directly, all from the same sshd, legs alternated within each run.
 */
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd } from '../lib/gateway-process.js';
import { commandWithMarker } from '../lib/marker.js';
import { alternate, spread, type Spread } from '../lib/stats.js';
import { gatewayLeg, opensshLeg, ssh2Leg, type LegName, type ShellLeg } from '../lib/shell-legs.js';

const BUILD_ID = 'bench-terminal';
/** The payloads: base64 in lines as real logs are, and one endless line. */
const PAYLOADS = {
  lines: (mib: number) => `head -c ${mib}M /dev/urandom | base64`,
  oneLine: (mib: number) => `head -c ${mib}M /dev/zero | base64 -w 0`,
} as const;
const FULL_MIB = 100;
const QUICK_MIB = 10;
/** 135 MB at a pessimistic 2 MB/s; anything slower is broken and is killed. */
const RUN_TIMEOUT_MS = 120_000;
const SYNC_TIMEOUT_MS = 15_000;
const RSS_SAMPLE_MS = 250;

interface LegRun {
  readonly run: number;
  readonly order: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerS: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerGB: number;
  /** Minor page faults of the leg's process per MB received. */
  readonly minorFaultsPerMB: number;
}

export interface TerminalPayloadResult {
  readonly command: string;
  readonly legs: Record<LegName, { readonly mbPerS: Spread; readonly cpuSecondsPerGB: Spread; readonly runs: LegRun[] }>;
  /** Per run, gateway ÷ OpenSSH throughput and gateway ÷ ssh2 CPU per GB. */
  readonly ratios: { readonly throughputGatewayToOpenssh: Spread; readonly cpuGatewayToSsh2: Spread; readonly throughputGatewayToSsh2: Spread };
  readonly gatewayRssPeakMiB: number;
}

export interface TerminalResult {
  readonly case: 'terminal';
  readonly date: string;
  readonly runs: number;
  readonly quick: boolean;
  readonly ciphers: Record<LegName, string | null>;
  readonly payloads: Record<keyof typeof PAYLOADS, TerminalPayloadResult>;
}

let markerCount = 0;
function nextMarker(): string {
  markerCount += 1;
  return `PORTHOLE_BENCH_DONE_${markerCount}_${Date.now()}`;
}

async function runPayload(legs: readonly ShellLeg[], command: string, options: CaseOptions, gatewayRss: () => number): Promise<TerminalPayloadResult> {
  const runs: Record<LegName, LegRun[]> = { gateway: [], ssh2: [], openssh: [] };
  let rssPeak = 0;
  for (let run = 0; run < options.runs; run++) {
    for (const [order, leg] of alternate(legs, run).entries()) {
      const cpuBefore = leg.cpuSeconds();
      const faultsBefore = leg.minorFaults();
      const sampler = leg.name === 'gateway' ? setInterval(() => (rssPeak = Math.max(rssPeak, gatewayRss())), RSS_SAMPLE_MS) : null;
      const marker = nextMarker();
      let result;
      try {
        result = await leg.run(commandWithMarker(command, marker), marker, RUN_TIMEOUT_MS);
      } finally {
        if (sampler) clearInterval(sampler);
      }
      const cpu = leg.cpuSeconds() - cpuBefore;
      const faults = leg.minorFaults() - faultsBefore;
      const entry: LegRun = {
        run,
        order,
        bytes: result.bytes,
        seconds: result.ms / 1000,
        mbPerS: result.bytes / result.ms / 1000,
        cpuSeconds: cpu,
        cpuSecondsPerGB: cpu / (result.bytes / 1e9),
        minorFaultsPerMB: faults / (result.bytes / 1e6),
      };
      runs[leg.name].push(entry);
      options.log(`  run ${run + 1} ${leg.name.padEnd(8)} ${entry.mbPerS.toFixed(1)} MB/s, ${entry.cpuSecondsPerGB.toFixed(1)} CPU-s/GB, ${entry.minorFaultsPerMB.toFixed(1)} faults/MB`);
    }
  }
  const ratio = (a: LegRun[], b: LegRun[], f: (r: LegRun) => number): Spread => spread(a.map((r, i) => f(r) / f(b[i] ?? r)));
  const summary = (name: LegName) => ({ mbPerS: spread(runs[name].map((r) => r.mbPerS)), cpuSecondsPerGB: spread(runs[name].map((r) => r.cpuSecondsPerGB)), runs: runs[name] });
  return {
    command,
    legs: { gateway: summary('gateway'), ssh2: summary('ssh2'), openssh: summary('openssh') },
    ratios: {
      throughputGatewayToOpenssh: ratio(runs.gateway, runs.openssh, (r) => r.mbPerS),
      throughputGatewayToSsh2: ratio(runs.gateway, runs.ssh2, (r) => r.mbPerS),
      cpuGatewayToSsh2: ratio(runs.gateway, runs.ssh2, (r) => r.cpuSecondsPerGB),
    },
    gatewayRssPeakMiB: rssPeak / 2 ** 20,
  };
}

export const terminalCase: BenchCase = {
  name: 'terminal',
  title: 'Terminal output throughput and CPU per GB',
  async run(options): Promise<TerminalResult> {
    const mib = options.quick ? QUICK_MIB : FULL_MIB;
    const sshd = await startBenchSshd();
    const gateway = await startBenchGateway();
    const opened: ShellLeg[] = [];
    try {
      const endpoint = keyEndpoint(sshd);
      await gateway.registerBuild(BUILD_ID, { ssh: endpoint });
      const payloads = {} as Record<keyof typeof PAYLOADS, TerminalPayloadResult>;
      const ciphers: Record<LegName, string | null> = { gateway: null, ssh2: null, openssh: null };
      for (const [name, make] of Object.entries(PAYLOADS) as [keyof typeof PAYLOADS, (m: number) => string][]) {
        // Fresh sessions per payload, so one payload's scrollback or window state never carries over.
        const legs = [await gatewayLeg(gateway, BUILD_ID), await ssh2Leg(endpoint), await opensshLeg(endpoint)];
        opened.push(...legs);
        for (const leg of legs) {
          ciphers[leg.name] = leg.cipher;
          const marker = nextMarker();
          await leg.run(commandWithMarker('stty -echo', marker), marker, SYNC_TIMEOUT_MS);
        }
        options.log(`terminal: ${name} (${make(mib)})`);
        payloads[name] = await runPayload(legs, make(mib), options, () => gateway.rssBytes());
        await Promise.all(legs.map((leg) => leg.close()));
      }
      // The gateway runs ssh2 with the same preferences as the direct client.
      ciphers.gateway = ciphers.ssh2;
      return { case: 'terminal', date: new Date().toISOString(), runs: options.runs, quick: options.quick, ciphers, payloads };
    } finally {
      await Promise.all(opened.map((leg) => leg.close()));
      await gateway.stop();
      await sshd.stop();
    }
  },
};
