/**
 * A stalled watcher against a flooding owner (issue #16): the owner's page runs `yes` and reads
 * everything, acknowledging as the page does; in one leg nobody watches, in the other a second
 * member watches the session and then stops reading altogether (no acks, its socket paused, as a
 * frozen tab). Legs alternate within each run, on one gateway and one sshd.
 *
 * Measured per leg over the same span: the owner's throughput (bytes received per second), the
 * gateway's RSS (sampled, its peak over the leg's start), the bytes the stalled watcher got, and
 * how long the owner's Ctrl-C takes to bring the prompt back. The claim: the owner's throughput
 * with the stalled watcher is within the spread of the throughput alone, and memory stays flat.
 */
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway } from '../lib/gateway-process.js';
import { mintTicketVia, openPageTerminal, type PageTerminal } from '../lib/page-terminal.js';
import { alternate, spread, type Spread } from '../lib/stats.js';
import { sleep } from '../lib/deadline.js';

const BUILD_ID = 'bench-pairing';
const WATCHER_ID = 'bench-watcher';
/** The span: a watcher stalled for a minute while the owner floods. */
const FULL_FLOOD_MS = 60_000;
const QUICK_FLOOD_MS = 3_000;
/** The flood is measured once this much has arrived: the pipeline is full and running. */
const WARM_BYTES = 1024 * 1024;
const RSS_SAMPLE_MS = 250;
const FLOOD_COMMAND = 'yes porthole-pairing-flood-line\r';
const CTRL_C = '\x03';
const KiB = 1024;
const MiB = 1024 * 1024;

type Leg = 'alone' | 'stalled watcher';

interface LegSample {
  readonly run: number;
  readonly leg: Leg;
  readonly ownerMiBPerSecond: number;
  /** Peak RSS during the flood over RSS just before it. */
  readonly rssGrowthMiB: number;
  readonly watcherReceivedKiB: number;
  readonly ctrlCMs: number;
}

export interface PairingResult {
  readonly date: string;
  readonly floodSeconds: number;
  readonly samples: readonly LegSample[];
  readonly ownerMiBPerSecond: Readonly<Record<Leg, Spread>>;
  readonly rssGrowthMiB: Readonly<Record<Leg, Spread>>;
  readonly ctrlCMs: Readonly<Record<Leg, Spread>>;
  readonly watcherReceivedKiB: Spread;
  /** Median owner throughput with the stalled watcher over the median alone. */
  readonly throughputRatio: number;
}

async function openOwner(gateway: BenchGateway): Promise<PageTerminal> {
  const page = await openPageTerminal(await gateway.mintTicket(BUILD_ID, 'ssh'), gateway.origin, { keep: false });
  await page.waitFor('ready', () => page.at.ready);
  return page;
}

async function openStalledWatcher(gateway: BenchGateway, watcherCookie: string, owner: PageTerminal): Promise<PageTerminal> {
  const ready = owner.controls.find((c) => c.type === 'ready');
  if (ready?.type !== 'ready') throw new Error('the owner has no session id');
  const port = Number(new URL(gateway.origin).port);
  const ticket = await mintTicketVia(gateway, { host: '127.0.0.1', port }, BUILD_ID, { kind: 'ssh', sessionId: ready.sessionId, mode: 'watch' }, watcherCookie);
  const watcher = await openPageTerminal(ticket, gateway.origin, { keep: false, ack: false });
  await watcher.waitFor('ready', () => watcher.at.ready);
  watcher.stopReading();
  return watcher;
}

async function runLeg(gateway: BenchGateway, watcherCookie: string, leg: Leg, run: number, floodMs: number): Promise<LegSample> {
  const owner = await openOwner(gateway);
  const watcher = leg === 'stalled watcher' ? await openStalledWatcher(gateway, watcherCookie, owner) : null;
  try {
    const rssBefore = gateway.rssBytes();
    owner.type(FLOOD_COMMAND);
    await owner.waitFor('the flood', () => (owner.received() >= WARM_BYTES ? true : null));
    let rssPeak = gateway.rssBytes();
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, gateway.rssBytes())), RSS_SAMPLE_MS);
    const startedAt = performance.now();
    const startBytes = owner.received();
    // The measured span itself, not a wait for something to happen.
    await sleep(floodMs);
    const bytes = owner.received() - startBytes;
    const seconds = (performance.now() - startedAt) / 1000;
    clearInterval(sampler);
    const interruptedAt = performance.now();
    const printed = new RegExp(`[\\r\\n]pairing-back-${run}\\r\\n`);
    owner.startKeeping();
    owner.type(`${CTRL_C}echo pairing-back-${run}\r`);
    await owner.waitFor('the prompt after Ctrl-C', () => (printed.test(owner.output().toString('latin1')) ? true : null));
    const ctrlCMs = performance.now() - interruptedAt;
    return {
      run,
      leg,
      ownerMiBPerSecond: bytes / MiB / seconds,
      rssGrowthMiB: (rssPeak - rssBefore) / MiB,
      watcherReceivedKiB: (watcher?.received() ?? 0) / KiB,
      ctrlCMs,
    };
  } finally {
    await owner.close();
    if (watcher) watcher.ws.terminate();
  }
}

export const pairingCase: BenchCase = {
  name: 'pairing',
  title: 'A stalled watcher against a flooding owner',
  async run(options: CaseOptions): Promise<PairingResult> {
    const floodMs = options.quick ? QUICK_FLOOD_MS : FULL_FLOOD_MS;
    const sshd = await startBenchSshd();
    const gateway = await startBenchGateway();
    const samples: LegSample[] = [];
    try {
      await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd) });
      const watcherCookie = await gateway.signInMember(WATCHER_ID);
      // Unmeasured: the gateway's first flood grows its heaps and compiles its hot paths.
      await runLeg(gateway, watcherCookie, 'stalled watcher', -1, QUICK_FLOOD_MS);
      for (let run = 0; run < options.runs; run++) {
        for (const leg of alternate<Leg>(['alone', 'stalled watcher'], run)) {
          const sample = await runLeg(gateway, watcherCookie, leg, run, floodMs);
          samples.push(sample);
          options.log(
            `  run ${run + 1} ${leg}: owner ${sample.ownerMiBPerSecond.toFixed(1)} MiB/s, RSS +${sample.rssGrowthMiB.toFixed(1)} MiB, ` +
              `watcher got ${sample.watcherReceivedKiB.toFixed(0)} KiB, Ctrl-C ${sample.ctrlCMs.toFixed(0)} ms`,
          );
        }
      }
    } finally {
      await gateway.stop();
      await sshd.stop();
    }
    const of = (leg: Leg, pick: (s: LegSample) => number): Spread => spread(samples.filter((s) => s.leg === leg).map(pick));
    const legs: readonly Leg[] = ['alone', 'stalled watcher'];
    const per = (pick: (s: LegSample) => number): Record<Leg, Spread> => Object.fromEntries(legs.map((leg) => [leg, of(leg, pick)])) as Record<Leg, Spread>;
    const ownerMiBPerSecond = per((s) => s.ownerMiBPerSecond);
    return {
      date: new Date().toISOString(),
      floodSeconds: floodMs / 1000,
      samples,
      ownerMiBPerSecond,
      rssGrowthMiB: per((s) => s.rssGrowthMiB),
      ctrlCMs: per((s) => s.ctrlCMs),
      watcherReceivedKiB: of('stalled watcher', (s) => s.watcherReceivedKiB),
      throughputRatio: ownerMiBPerSecond['stalled watcher'].median / ownerMiBPerSecond.alone.median,
    };
  },
};
