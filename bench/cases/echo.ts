/**
 * Keystroke echo round trip: through the gateway vs ssh2 direct vs OpenSSH in a local PTY, idle
 * and while another session of the same kind floods output. Rounds alternate the legs.
 */
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway, type SshEndpoint } from '../lib/gateway-process.js';
import { gatewayEchoLeg, measureEcho, opensshEchoLeg, ssh2EchoLeg, type EchoLeg } from '../lib/echo-legs.js';
import { gatewayLeg, ssh2Leg, type ShellLeg } from '../lib/shell-legs.js';
import { alternate, percentile, spread, type Spread } from '../lib/stats.js';

const BUILD_ID = 'bench-echo';
const FULL_KEYSTROKES = 1000;
const QUICK_KEYSTROKES = 100;
/** Output without end, as fast as the PTY goes, in lines. */
const FLOOD_COMMAND = 'yes porthole-bench-flood-line\r';

export interface EchoLegSummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p99 of each round, to show how much it moves between rounds. */
  readonly roundP99Ms: Spread;
  readonly roundP50Ms: Spread;
}

export interface EchoResult {
  readonly case: 'echo';
  readonly date: string;
  readonly keystrokesPerLeg: number;
  readonly rounds: number;
  readonly idle: Record<string, EchoLegSummary>;
  /** gateway − ssh2, per round (the same round's samples on both sides). */
  readonly idleAddedP99Ms: Spread;
  readonly idleAddedP50Ms: Spread;
  readonly flood: Record<string, EchoLegSummary>;
}

export function summarize(rounds: readonly number[][]): EchoLegSummary {
  const all = rounds.flat();
  return {
    n: all.length,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    maxMs: Math.max(...all),
    roundP99Ms: spread(rounds.map((r) => percentile(r, 99))),
    roundP50Ms: spread(rounds.map((r) => percentile(r, 50))),
  };
}

async function measureRounds(legs: readonly EchoLeg[], perRound: number, rounds: number, log: (m: string) => void, label: string): Promise<Record<string, number[][]>> {
  const samples: Record<string, number[][]> = Object.fromEntries(legs.map((l) => [l.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const leg of alternate(legs, round)) {
      const times = await measureEcho(leg, perRound);
      samples[leg.name]?.push(times);
      log(`  ${label} round ${round + 1} ${leg.name.padEnd(8)} p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`);
    }
  }
  return samples;
}

/** Echo through `leg` while `flood` (another session of the same kind) prints without end. */
async function underFlood(leg: EchoLeg, flood: ShellLeg, perRound: number, rounds: number, log: (m: string) => void): Promise<number[][]> {
  flood.write(FLOOD_COMMAND);
  try {
    return (await measureRounds([leg], perRound, rounds, log, 'flood'))[leg.name] ?? [];
  } finally {
    flood.write('\x03');
  }
}

export async function openEchoLegs(gateway: BenchGateway, endpoint: SshEndpoint): Promise<EchoLeg[]> {
  return [await gatewayEchoLeg(gateway, BUILD_ID), await ssh2EchoLeg(endpoint), await opensshEchoLeg(endpoint)];
}

export const echoCase: BenchCase = {
  name: 'echo',
  title: 'Keystroke echo, idle and during a flood',
  async run(options: CaseOptions): Promise<EchoResult> {
    const total = options.quick ? QUICK_KEYSTROKES : FULL_KEYSTROKES;
    const rounds = options.runs;
    const perRound = Math.ceil(total / rounds);
    const sshd = await startBenchSshd();
    const gateway = await startBenchGateway();
    const toClose: { close(): Promise<void> }[] = [];
    try {
      const endpoint = keyEndpoint(sshd);
      await gateway.registerBuild(BUILD_ID, { ssh: endpoint });
      const legs = await openEchoLegs(gateway, endpoint);
      toClose.push(...legs);
      const idle = await measureRounds(legs, perRound, rounds, options.log, 'idle');
      const gatewayRounds = idle['gateway'] ?? [];
      const ssh2Rounds = idle['ssh2'] ?? [];

      const flood: Record<string, EchoLegSummary> = {};
      const gatewayFlood = await gatewayLeg(gateway, BUILD_ID);
      toClose.push(gatewayFlood);
      const gatewayEcho = legs.find((l) => l.name === 'gateway');
      const ssh2Echo = legs.find((l) => l.name === 'ssh2');
      if (gatewayEcho) flood['gateway'] = summarize(await underFlood(gatewayEcho, gatewayFlood, perRound, rounds, options.log));
      await gatewayFlood.close();
      const ssh2Flood = await ssh2Leg(endpoint);
      toClose.push(ssh2Flood);
      if (ssh2Echo) flood['ssh2'] = summarize(await underFlood(ssh2Echo, ssh2Flood, perRound, rounds, options.log));
      await ssh2Flood.close();

      return {
        case: 'echo',
        date: new Date().toISOString(),
        keystrokesPerLeg: perRound * rounds,
        rounds,
        idle: Object.fromEntries(Object.entries(idle).map(([name, r]) => [name, summarize(r)])),
        idleAddedP99Ms: spread(gatewayRounds.map((r, i) => percentile(r, 99) - percentile(ssh2Rounds[i] ?? [], 99))),
        idleAddedP50Ms: spread(gatewayRounds.map((r, i) => percentile(r, 50) - percentile(ssh2Rounds[i] ?? [], 50))),
        flood,
      };
    } finally {
      await Promise.all(toClose.map((c) => c.close().catch(() => undefined)));
      await gateway.stop();
      await sshd.stop();
    }
  },
};
