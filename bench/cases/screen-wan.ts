/**
 * The screen over a slow link (issue #19), in Chromium: the real screen page through the link
 * simulator and the gateway to Xvnc, whose desktop keeps changing (bench/lib/changing-desktop.ts),
 * for three links, with Raw, each Quality preset and Auto; and noVNC's own page with its defaults
 * through websockify and the same simulator, as the peer.
 *
 * Per leg: frames shown per second (animation frames in which sampled rows of the canvas changed)
 * and change-to-pixel (the bench flips a marker on the VM and the page stamps the frame that shows
 * it; the next flip waits for that, plus a random pause, so every flip has its own answer).
 * Raw: a relay between the gateway and Xvnc rewrites the page's SetEncodings to Raw
 * (bench/lib/raw-encodings-relay.ts). Chromium runs without DevTools (direct-chromium.ts).
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { BENCH_CREDENTIALS, keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway } from '../lib/gateway-process.js';
import { alternate, percentile, spread, type Spread } from '../lib/stats.js';
import { sleep } from '../lib/deadline.js';
import { launchDirectChromium, startPageHub, type PageHub } from '../lib/direct-chromium.js';
import { writeScreenProbeExtension, type ProbeCounters } from '../lib/screen-probe-extension.js';
import { startChangingDesktop, type ChangingDesktop } from '../lib/changing-desktop.js';
import { startRawEncodingsRelay, type RawEncodingsRelay } from '../lib/raw-encodings-relay.js';
import { parseReadout, type ReadoutSample } from '../lib/link-readout.js';
import { startWebsockify } from '../lib/websockify.js';
import { QUALITY_PRESETS, type QualityChoice, type QualityPreset } from '../../client/src/screen/quality.js';
import { LINK_PROFILES, startLinkSimulator, type LinkProfile, type LinkSimulator } from '../../test/helpers/link-simulator.js';
import { startXvnc } from '../../test/helpers/xvnc.js';

const BUILD_ID = 'bench-screen-wan';
const SCREEN_PATH = `/builds/${BUILD_ID}/screen`;
const PEER_PATH = '/peer.html';
const WIDTH = 1280;
const HEIGHT = 800;
const VIEWPORT = { width: 1280, height: 800 } as const;
/** The product's Quality presets, in its own order (sharpest first). */
const PRESETS = Object.keys(QUALITY_PRESETS) as QualityPreset[];
export type ScreenMode = QualityChoice | 'raw';
/**
 * The product's modes, in the order the first run takes them (the targets' first: a loaded
 * machine may use up the case's time), then the presets lightest first; Auto only where the page
 * offers it (issue #19).
 */
const SCREEN_MODES: readonly ScreenMode[] = ['auto', 'raw', ...[...PRESETS].sort((a, b) => QUALITY_PRESETS[a].quality - QUALITY_PRESETS[b].quality)];
export type ScreenLeg = ScreenMode | 'peer';
export type LinkName = keyof typeof LINK_PROFILES;
/** The slow link first, for the same reason. */
const LINK_NAMES: readonly LinkName[] = ['slow', 'lan', 'broadband'];
/** Measured time per leg, after its connection, first flip and settling pause. */
const LEG_MS = 6_000;
const QUICK_LEG_MS = 2_000;
/** After a mode or link change and the first flip seen in it: queues of the mode before drain. */
const SETTLE_MS = 1_000;
/** A run (21 legs, each on a new connection) takes ~4.5 min here: two fit the case's 12 minutes. */
const MAX_RUNS = 2;
/**
 * Legs stop starting after this (the runner's case deadline is 12 min): on a loaded machine a leg
 * can take a minute, and what was measured is kept. Skipped legs are counted in the result.
 */
const BUDGET_MS = 9 * 60_000;
/** A flip not shown after this long ends its leg: the figure is then "at least" this. */
const CHANGE_CAP_MS = 10_000;
/** The first flip after a change waits out whatever the mode before still had queued. */
const SYNC_TIMEOUT_MS = 15_000;
/** A random pause between a flip shown and the next, so flips do not lock in step with the scrolling. */
const FLIP_PAUSE_MIN_MS = 100;
const FLIP_PAUSE_SPREAD_MS = 200;
/** Rows of the canvas hashed each frame: across the scrolling terminal and the moving window's path. */
const SAMPLE_ROWS = [100, 200, 300, 400, 500, 600] as const;
const PAGE_START_TIMEOUT_MS = 90_000;
/**
 * No GPU here: with SwiftShader's accelerated canvas, every getImageData of the probe is a readback
 * through the starved GPU process that blocks the page's main thread (the readout's /healthz took
 * seconds on the LAN in Tight legs). A CPU canvas is what a browser without a usable GPU draws on,
 * and makes the probe's reads a copy.
 */
const RENDER_ARGS = ['--disable-accelerated-2d-canvas'] as const;
/** Answers from the page come within a frame; the margin is for a page busy decoding on a loaded machine. */
const HUB_MARGIN_MS = 30_000;
const NOVNC_DIR = resolve(import.meta.dirname, '..', '..', 'node_modules', '@novnc', 'novnc');
/** Targets (issue #19). */
const SLOW_AUTO_P95_MAX_MS = 500;
const SLOW_AUTO_FPS_MIN = 5;
const LAN_AUTO_WITHIN = 0.1;

export interface ScreenLegRun {
  readonly run: number;
  readonly fpsShown: number;
  readonly changeP50Ms: number;
  readonly changeP95Ms: number;
  readonly flips: number;
  /** Flips not shown within CHANGE_CAP_MS (then counted as that). */
  readonly overCap: number;
  /** The page's readout (product legs): FramebufferUpdates/s and KB/s, medians of its 1 s samples. */
  readonly readoutFps: number | null;
  readonly readoutKBps: number | null;
  /** The readout's /healthz round trip (median): time the page's own tasks wait, beyond the link's RTT. */
  readonly readoutRttMs: number | null;
}

export interface ScreenLegSummary {
  readonly fpsShown: Spread;
  readonly changeP50Ms: Spread;
  readonly changeP95Ms: Spread;
  /** Over every flip of every run. */
  readonly pooledP50Ms: number;
  readonly pooledP95Ms: number;
  readonly flips: number;
  readonly overCap: number;
  /** Over the runs that had a readout: n 0 where none had (the peer's page); older results have null there, which the report shows alike. */
  readonly readoutFps: Spread | null;
  readonly readoutKBps: Spread | null;
  readonly readoutRttMs: Spread | null;
  readonly runs: ScreenLegRun[];
}

export interface ScreenWanResult {
  readonly case: 'screen-wan';
  readonly date: string;
  readonly screen: string;
  readonly links: Record<LinkName, LinkProfile>;
  readonly legMs: number;
  readonly runs: number;
  /** Legs not started because the case's time was up (a loaded machine). */
  readonly skippedLegs: number;
  readonly failedLegs: number;
  /** The machine's 1-minute load average at the start and the end: other work on the 2 cores. */
  readonly loadAverage: readonly number[];
  readonly cores: number;
  /** Modes the page offered (Auto is missing where the build has none). */
  readonly modes: ScreenMode[];
  readonly results: Record<LinkName, Partial<Record<ScreenLeg, ScreenLegSummary>>>;
  readonly targets: {
    readonly slowAutoP95Ms: { value: number | null; max: number; met: boolean | null };
    readonly slowAutoFps: { value: number | null; min: number; met: boolean | null };
    readonly lanAutoToBest: { autoFps: number | null; bestPreset: string; bestFps: number; autoP95Ms: number | null; bestP95Ms: number; met: boolean | null };
  };
}

interface Rig {
  readonly hub: PageHub;
  readonly desktop: ChangingDesktop;
  readonly relay: RawEncodingsRelay;
  readonly productLink: LinkSimulator;
  readonly peerLink: LinkSimulator;
  /** The probe extension signing in as the bench user (the peer's page has no sign-in). */
  readonly extension: string;
  /** A probe extension signing in with these credentials: a new folder, the caller's to remove. */
  readonly extensionFor: (credentials: { readonly email: string; readonly password: string }) => string;
  readonly gateway: BenchGateway;
  /** Product legs started, which names each one's member. */
  legs: number;
  /** performance.now() after which no leg starts. */
  readonly stopAt: number;
  /** Legs not started for want of time, and legs that failed. */
  skipped: number;
  failed: number;
  /** The marker's colour on the VM, which outlives each leg's browser. */
  readonly light: { value: boolean };
  /** The Quality values the product page offers (Auto where it exists), as it last said. */
  qualities: string[];
}

/** noVNC's own files and a page that opens it with its defaults, as a site would with vnc_lite.html. */
function writePeerSite(password: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-novnc-'));
  symlinkSync(join(NOVNC_DIR, 'core'), join(dir, 'core'));
  symlinkSync(join(NOVNC_DIR, 'vendor'), join(dir, 'vendor'));
  writeFileSync(
    join(dir, PEER_PATH.slice(1)),
    `<!doctype html><html><head><meta charset="utf-8"><title>noVNC</title>
<style>html, body { margin: 0; height: 100%; background: #000; } #screen { width: 100%; height: 100%; }</style></head>
<body><div id="screen"></div>
<script type="module">
import RFB from './core/rfb.js';
const rfb = new RFB(document.getElementById('screen'), 'ws://' + location.host + '/websockify', { credentials: { password: ${JSON.stringify(password)} } });
rfb.scaleViewport = true;
rfb.addEventListener('connect', () => { document.body.dataset.state = 'connected'; });
</script></body></html>`,
  );
  return dir;
}

function median(values: readonly number[]): number | null {
  return values.length === 0 ? null : percentile(values, 50, 'interpolate');
}

/** Flips the marker on the VM and waits for the page to show it: when it flipped, and when the page showed it (null: not within `timeoutMs`). */
async function flipAndWait(rig: Rig, timeoutMs: number): Promise<{ at: number; seen: number | null }> {
  rig.light.value = !rig.light.value;
  const at = rig.desktop.flip(rig.light.value);
  const seen = await rig.hub.call<number | null>('page', { type: 'marker', light: rig.light.value, after: at, timeoutMs }, timeoutMs + HUB_MARGIN_MS);
  return { at, seen };
}

/** Flips the marker until `legMs` is over; each flip waits for the page to show the one before. */
async function flipsFor(rig: Rig, legMs: number): Promise<{ times: number[]; overCap: number }> {
  const times: number[] = [];
  const ends = performance.now() + legMs;
  while (performance.now() < ends) {
    const { at, seen } = await flipAndWait(rig, CHANGE_CAP_MS);
    if (seen === null) {
      times.push(CHANGE_CAP_MS);
      return { times, overCap: 1 };
    }
    times.push(seen - at);
    await sleep(FLIP_PAUSE_MIN_MS + Math.random() * FLIP_PAUSE_SPREAD_MS);
  }
  return { times, overCap: 0 };
}

/** One flip shown (the pipeline carries the new mode), then a settling pause; false when it never showed. */
async function sync(rig: Rig): Promise<boolean> {
  const { seen } = await flipAndWait(rig, SYNC_TIMEOUT_MS);
  if (seen === null) return false;
  await sleep(SETTLE_MS);
  return true;
}

async function measureLeg(rig: Rig, run: number, legMs: number): Promise<{ legRun: ScreenLegRun; times: number[] }> {
  const counters = (): Promise<ProbeCounters> => rig.hub.call<ProbeCounters>('page', { type: 'counters' }, HUB_MARGIN_MS);
  const atSync = await counters();
  const synced = await sync(rig);
  const before = synced ? await counters() : atSync;
  // A page that did not show the first flip in SYNC_TIMEOUT_MS is wedged: that one flip is the leg.
  const { times, overCap } = synced ? await flipsFor(rig, legMs) : { times: [SYNC_TIMEOUT_MS], overCap: 1 };
  const after = await counters();
  const readouts = after.readouts.map(parseReadout).filter((r): r is ReadoutSample => r !== null);
  const fps = median(readouts.map((r) => r.framesPerSecond));
  const kBps = median(readouts.map((r) => r.bytesPerSecond / 1024));
  const rtt = median(readouts.map((r) => r.roundTripMs).filter((x): x is number => x !== null));
  return {
    legRun: {
      run,
      fpsShown: (after.framesChanged - before.framesChanged) / ((after.at - before.at) / 1000),
      changeP50Ms: percentile(times, 50),
      changeP95Ms: percentile(times, 95),
      flips: times.length,
      overCap,
      readoutFps: fps,
      readoutKBps: kBps,
      readoutRttMs: rtt,
    },
    times,
  };
}

type Collected = Record<LinkName, Partial<Record<ScreenLeg, { runs: ScreenLegRun[]; times: number[] }>>>;

function record(collected: Collected, link: LinkName, leg: ScreenLeg, measured: { legRun: ScreenLegRun; times: number[] }, log: (m: string) => void): void {
  const entry = (collected[link][leg] ??= { runs: [], times: [] });
  entry.runs.push(measured.legRun);
  entry.times.push(...measured.times);
  const r = measured.legRun;
  const readout = r.readoutFps === null ? '' : `; readout ${r.readoutFps.toFixed(0)} fps ${r.readoutKBps?.toFixed(0)} KB/s, /healthz ${r.readoutRttMs?.toFixed(0) ?? '—'} ms`;
  log(`  run ${r.run + 1} ${link.padEnd(9)} ${leg.padEnd(8)} ${r.fpsShown.toFixed(1)} fps shown, change→pixel p50 ${r.changeP50Ms.toFixed(0)} p95 ${r.changeP95Ms.toFixed(0)} ms (${r.flips} flips${r.overCap ? ', one over the cap' : ''})${readout}`);
}

const CONNECT = { type: 'connected', width: WIDTH, height: HEIGHT, rows: SAMPLE_ROWS } as const;

/**
 * One leg in a Chromium of its own (fresh profile, new connection): nothing queued by the leg
 * before carries over, which a reload of the same page did not ensure on this loaded machine.
 * A leg that fails (the page stopped answering) is logged and counted; the next one goes on.
 */
async function legInBrowser(rig: Rig, url: string, link: LinkName, leg: ScreenLeg, run: number, legMs: number, collected: Collected, log: (m: string) => void): Promise<string[]> {
  const simulator = leg === 'peer' ? rig.peerLink : rig.productLink;
  simulator.setProfile(LINK_PROFILES[link]);
  // Raw: the relay rewrites the SetEncodings the page connects with (and any it sends after).
  rig.relay.setRaw(leg === 'raw');
  // The gateway allows an account 20 sign-ins in 15 minutes, fewer than a run's legs: each
  // product leg signs in as a member of its own.
  const extension = leg === 'peer' ? rig.extension : rig.extensionFor(await rig.gateway.addMember(`screen-leg-${++rig.legs}`));
  const browser = launchDirectChromium(url, VIEWPORT, RENDER_ARGS, extension);
  try {
    const { qualities } = await rig.hub.call<{ qualities: string[] }>('page', { ...CONNECT, marker: rig.desktop.marker }, PAGE_START_TIMEOUT_MS);
    if (leg !== 'peer' && leg !== 'raw') await rig.hub.call('page', { type: 'quality', value: leg }, HUB_MARGIN_MS);
    record(collected, link, leg, await measureLeg(rig, run, legMs), log);
    return qualities;
  } catch (error) {
    rig.failed += 1;
    log(`  !! run ${run + 1} ${link} ${leg} failed: ${String(error)}`);
    return [];
  } finally {
    await browser.stop();
    rig.relay.setRaw(false);
    if (extension !== rig.extension) rmSync(extension, { recursive: true, force: true });
  }
}

/** Every link, every mode of the product page, then noVNC's page with its defaults, in the run's order. */
async function oneRun(rig: Rig, run: number, legMs: number, collected: Collected, log: (m: string) => void): Promise<void> {
  const product = `http://${rig.productLink.host}:${rig.productLink.port}/login?next=${encodeURIComponent(SCREEN_PATH)}`;
  const peer = `http://${rig.peerLink.host}:${rig.peerLink.port}${PEER_PATH}`;
  // BENCH_SCREEN_MODES=raw,fast: only those product legs, to look into one (figures not publishable).
  const only = process.env['BENCH_SCREEN_MODES']?.split(',');
  const legs: ScreenLeg[] = [...SCREEN_MODES.filter((m) => (m === 'raw' || rig.qualities.includes(m)) && (!only || only.includes(m))), 'peer'];
  for (const link of alternate(LINK_NAMES, run)) {
    for (const leg of alternate(legs, run)) {
      if (performance.now() > rig.stopAt) {
        rig.skipped += 1;
        continue;
      }
      const qualities = await legInBrowser(rig, leg === 'peer' ? peer : product, link, leg, run, legMs, collected, log);
      if (leg !== 'peer' && qualities.length > 0) rig.qualities = qualities;
    }
  }
}

function summarise(entry: { runs: ScreenLegRun[]; times: number[] }): ScreenLegSummary {
  const r = entry.runs;
  const fps = r.map((x) => x.readoutFps).filter((x): x is number => x !== null);
  const kBps = r.map((x) => x.readoutKBps).filter((x): x is number => x !== null);
  const rtt = r.map((x) => x.readoutRttMs).filter((x): x is number => x !== null);
  return {
    fpsShown: spread(r.map((x) => x.fpsShown)),
    changeP50Ms: spread(r.map((x) => x.changeP50Ms)),
    changeP95Ms: spread(r.map((x) => x.changeP95Ms)),
    pooledP50Ms: percentile(entry.times, 50),
    pooledP95Ms: percentile(entry.times, 95),
    flips: entry.times.length,
    overCap: r.reduce((sum, x) => sum + x.overCap, 0),
    readoutFps: spread(fps),
    readoutKBps: spread(kBps),
    readoutRttMs: spread(rtt),
    runs: r,
  };
}

/** Issue #19's targets, from the summaries; null where Auto was not measured. */
function judgeTargets(results: ScreenWanResult['results']): ScreenWanResult['targets'] {
  const slowAuto = results.slow.auto;
  const lanAuto = results.lan.auto;
  const presets = PRESETS.filter((p) => results.lan[p] !== undefined);
  const best = presets.reduce((a, b) => ((results.lan[b]?.fpsShown.median ?? 0) > (results.lan[a]?.fpsShown.median ?? 0) ? b : a), presets[0] ?? 'balanced');
  const bestFps = results.lan[best]?.fpsShown.median ?? NaN;
  const bestP95 = results.lan[best]?.pooledP95Ms ?? NaN;
  return {
    slowAutoP95Ms: { value: slowAuto?.pooledP95Ms ?? null, max: SLOW_AUTO_P95_MAX_MS, met: slowAuto ? slowAuto.pooledP95Ms <= SLOW_AUTO_P95_MAX_MS : null },
    slowAutoFps: { value: slowAuto?.fpsShown.median ?? null, min: SLOW_AUTO_FPS_MIN, met: slowAuto ? slowAuto.fpsShown.median >= SLOW_AUTO_FPS_MIN : null },
    lanAutoToBest: {
      autoFps: lanAuto?.fpsShown.median ?? null,
      bestPreset: best,
      bestFps,
      autoP95Ms: lanAuto?.pooledP95Ms ?? null,
      bestP95Ms: bestP95,
      met: lanAuto ? lanAuto.fpsShown.median >= (1 - LAN_AUTO_WITHIN) * bestFps && lanAuto.pooledP95Ms <= (1 + LAN_AUTO_WITHIN) * bestP95 : null,
    },
  };
}

export const screenWanCase: BenchCase = {
  name: 'screen-wan',
  title: 'Screen over LAN, 20 Mbit/s and 5 Mbit/s links in Chromium: Raw, presets, Auto, noVNC via websockify',
  async run(options: CaseOptions): Promise<ScreenWanResult> {
    const legMs = options.quick ? QUICK_LEG_MS : LEG_MS;
    const runs = Math.min(options.runs, MAX_RUNS);
    const loadAtStart = loadavg()[0] ?? NaN;
    const sshd = await startBenchSshd();
    const xvnc = await startXvnc({ width: WIDTH, height: HEIGHT });
    const cleanups: (() => Promise<void>)[] = [() => sshd.stop(), () => xvnc.stop()];
    try {
      const desktop = await startChangingDesktop(xvnc.display);
      cleanups.push(() => desktop.stop());
      const relay = await startRawEncodingsRelay(xvnc);
      cleanups.push(() => relay.close());
      // The simulator is the gateway's public address, so its port must be known first.
      const gatewayAddress = { host: '127.0.0.1', port: 0 };
      const productLink = await startLinkSimulator(gatewayAddress, LINK_PROFILES.lan);
      cleanups.push(() => productLink.close());
      const gateway = await startBenchGateway({ publicOrigin: `http://${productLink.host}:${productLink.port}` });
      cleanups.push(() => gateway.stop());
      gatewayAddress.port = Number(new URL(gateway.origin).port);
      await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd), vnc: { host: relay.host, port: relay.port, password: xvnc.password } });
      const site = writePeerSite(xvnc.password);
      cleanups.push(async () => rmSync(site, { recursive: true, force: true }));
      const websockify = await startWebsockify(xvnc, { web: site });
      cleanups.push(() => websockify.proc.stop(3_000));
      const peerLink = await startLinkSimulator({ host: '127.0.0.1', port: websockify.port }, LINK_PROFILES.lan);
      cleanups.push(() => peerLink.close());
      const hub = await startPageHub({});
      cleanups.push(() => hub.close());
      const extensionFor = (credentials: { readonly email: string; readonly password: string }): string =>
        writeScreenProbeExtension({ credentials, screenPath: SCREEN_PATH, peerPath: PEER_PATH, hubOrigin: hub.origin });
      const extension = extensionFor(BENCH_CREDENTIALS);
      cleanups.push(async () => rmSync(extension, { recursive: true, force: true }));
      const rig: Rig = { hub, desktop, relay, productLink, peerLink, extension, extensionFor, gateway, legs: 0, stopAt: performance.now() + BUDGET_MS, skipped: 0, failed: 0, light: { value: false }, qualities: [...SCREEN_MODES] };

      const collected: Collected = { lan: {}, broadband: {}, slow: {} };
      for (let run = 0; run < runs; run++) await oneRun(rig, run, legMs, collected, options.log);
      const modes = SCREEN_MODES.filter((m) => m === 'raw' || rig.qualities.includes(m));
      if (!modes.includes('auto')) options.log('  !! the page offers no Auto quality: measured without it');
      if (rig.skipped > 0) options.log(`  !! ${rig.skipped} legs not started: the case's ${BUDGET_MS / 60_000} min were up`);
      const results = Object.fromEntries(
        LINK_NAMES.map((link) => [link, Object.fromEntries(Object.entries(collected[link]).map(([leg, entry]) => [leg, summarise(entry)]))]),
      ) as ScreenWanResult['results'];
      return {
        case: 'screen-wan',
        date: new Date().toISOString(),
        screen: `${WIDTH}×${HEIGHT}, Chromium ${VIEWPORT.width}×${VIEWPORT.height} (fit to window)`,
        links: LINK_PROFILES,
        legMs,
        runs,
        skippedLegs: rig.skipped,
        failedLegs: rig.failed,
        loadAverage: [loadAtStart, loadavg()[0] ?? NaN],
        cores: availableParallelism(),
        modes,
        results,
        targets: judgeTargets(results),
      };
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }
  },
};
