/**
 * In Chromium, on the real terminal page: the time to display 50 MB of shell output, against
 * xterm.js in a bare page set up as the terminal page sets it up (same options, addons, size, font
 * and renderer) and fed the same bytes, alternating the two; and the time from Ctrl-C during `yes`
 * to the prompt being back on screen.
 *
 * Two ways, two rows. Without DevTools (the figures that count): Chromium started directly, the
 * pages driven and read over a loopback HTTP server of the bench's (bench/lib/direct-chromium.ts),
 * the real page through an extension's content script (bench/lib/page-probe-extension.ts, which
 * says why not the embed SDK). With Playwright (kept for comparison with earlier runs): DevTools
 * attached, which copies every WebSocket frame to the bench process (issue #18).
 *
 * Times are taken in the page: the typing is stamped, and the frame after the page shows the title
 * the shell sets once it is done (OSC 0). The terminal page sets the tab title from the VM's OSC
 * title as soon as xterm.js parses it, so that is the moment all output before it has been parsed.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { BENCH_CREDENTIALS, keyEndpoint, startBenchGateway, startBenchSshd, type BenchGateway } from '../lib/gateway-process.js';
import { launchChromium, signInThroughForm } from '../../test/helpers/chromium.js';
import { alternate, spread, type Spread } from '../lib/stats.js';
import { ssh2Leg } from '../lib/shell-legs.js';
import { commandWithMarker } from '../lib/marker.js';
import { sleep, withDeadline } from '../lib/deadline.js';
import { launchDirectChromium, startPageHub, type DirectChromium, type PageHub } from '../lib/direct-chromium.js';
import { bareUrl, bareXtermFiles, startFeedServer } from '../lib/bare-xterm.js';
import { writePageProbeExtension } from '../lib/page-probe-extension.js';
import type { SshdHandle } from '../../test/helpers/sshd.js';

const BUILD_ID = 'bench-browser';
const TERMINAL_PATH = `/builds/${BUILD_ID}/terminal`;
const FULL_BYTES = 50_000_000;
const QUICK_BYTES = 5_000_000;
/** base64(1)'s line length, as build logs look. */
const LINE_CHARS = 76;
const VIEWPORT = { width: 1280, height: 800 } as const;
const DISPLAY_TIMEOUT_MS = 120_000;
const PROMPT_TIMEOUT_MS = 30_000;
/** Chromium starts, signs in and connects in a few seconds; the deadline only keeps a broken run from hanging. */
const PAGE_START_TIMEOUT_MS = 60_000;
/** `yes` runs this long before Ctrl-C, so the pipeline is full as in a real flood. */
const FLOOD_BEFORE_CTRL_C_MS = 1_500;
/**
 * No GPU here: software WebGL (SwiftShader) draws slower than xterm.js's DOM renderer, so both
 * pages get the DOM renderer, as a browser without usable WebGL does.
 */
const RENDER_ARGS = ['--disable-3d-apis'] as const;
/** A plain prompt that announces itself through the title, so the bench sees it arrive. */
const PROMPT_SETUP = `PS1='$ '; PROMPT_COMMAND='printf "\\033]0;PROMPT%s\\007" $((++N))'`;

/** Installed before any page script (Playwright row): stamps keys and title changes with the page's clock. */
const PAGE_PROBE = `
window.__bench = { keys: [], titles: [] };
addEventListener('keydown', (e) => window.__bench.keys.push({ key: e.key, ctrl: e.ctrlKey, t: performance.now() }), true);
const titleProperty = Object.getOwnPropertyDescriptor(Document.prototype, 'title');
Object.defineProperty(document, 'title', {
  configurable: true,
  get() { return titleProperty.get.call(this); },
  set(value) {
    titleProperty.set.call(this, value);
    const entry = { title: String(value), t: performance.now(), shownAt: null };
    window.__bench.titles.push(entry);
    requestAnimationFrame(() => { entry.shownAt = performance.now(); });
  },
});
`;

interface Probe {
  keys: { key: string; ctrl: boolean; t: number }[];
  titles: { title: string; t: number; shownAt: number | null }[];
}

/** One way of running Chromium: the real page against the bare page, same run. */
export interface BrowserRow {
  readonly renderer: { page: string; bare: string };
  readonly terminalSize: string;
  readonly pageSeconds: Spread;
  readonly bareSeconds: Spread;
  readonly pageMBps: Spread;
  readonly bareMBps: Spread;
  /** Bare ÷ page time per run: 1 means the page shows output as fast as xterm.js alone can. */
  readonly ratio: Spread;
  readonly ctrlCToPromptMs: Spread;
}

/**
 * Version 2: the top-level figures are the Playwright row, as every version-1 file (and the
 * baseline) has them; `direct` is Chromium without DevTools, alternated with the PTY ceiling.
 */
export interface BrowserResult extends BrowserRow {
  readonly case: 'browser';
  readonly version?: 2;
  readonly date: string;
  readonly bytes: number;
  /** Version 1 only: the PTY ceiling alternated with the Playwright row (now in `direct`). */
  readonly ptySeconds?: Spread;
  readonly ptyMBps?: Spread;
  readonly pageToPty?: Spread;
  readonly direct?: BrowserRow & {
    /** The same `cat` read by ssh2 directly: the PTY's own ceiling on this machine. */
    readonly ptySeconds: Spread;
    readonly ptyMBps: Spread;
    /** PTY-alone ÷ page time per run: how close the page gets to what the VM side can deliver. */
    readonly pageToPty: Spread;
    /**
     * Issue #18 point 3, outside the product: the bare page receiving the same bytes over a
     * WebSocket (gateway-sized frames and credit) on its main thread, or in a Worker.
     */
    readonly receive?: { mainSeconds: Spread; workerSeconds: Spread; mainMBps: Spread; workerMBps: Spread; workerToMain: Spread };
  };
}

interface Output {
  readonly dir: string;
  readonly file: string;
  readonly pty: Buffer;
}

function makeOutputFile(bytes: number): Output {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-browser-'));
  chmodSync(dir, 0o755);
  const text = randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes);
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += LINE_CHARS) lines.push(text.slice(i, i + LINE_CHARS));
  const file = join(dir, 'output.txt');
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o644 });
  // What the PTY turns it into (onlcr), which is what xterm.js receives on the real page.
  return { dir, file, pty: Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1') };
}

let doneCount = 0;
/** The command that prints the file, then sets a title no earlier command set, and that title. */
function catCommand(file: string): { line: string; tag: string } {
  doneCount += 1;
  return { line: `cat ${file}; printf '\\033]0;%s%s\\007' BENCH DONE${doneCount}`, tag: `BENCHDONE${doneCount}` };
}
let bareCount = 0;
function bareTag(): string {
  bareCount += 1;
  return `BAREDONE${bareCount}`;
}

function mbps(bytes: number, seconds: readonly number[]): Spread {
  return spread(seconds.map((s) => bytes / s / 1e6));
}

function row(bytes: number, renderer: BrowserRow['renderer'], terminalSize: string, pageSeconds: number[], bareSeconds: number[], ctrlC: number[]): BrowserRow {
  return {
    renderer,
    terminalSize,
    pageSeconds: spread(pageSeconds),
    bareSeconds: spread(bareSeconds),
    pageMBps: mbps(bytes, pageSeconds),
    bareMBps: mbps(bytes, bareSeconds),
    ratio: spread(pageSeconds.map((s, i) => (bareSeconds[i] ?? NaN) / s)),
    ctrlCToPromptMs: spread(ctrlC),
  };
}

// ---- Without DevTools: Chromium started directly, driven over the page hub.

interface Layout {
  width: number;
  height: number;
  renderer: string;
  /** innerWidth×innerHeight. */
  viewport: string;
}

async function measureDirect(options: CaseOptions, gateway: BenchGateway, sshd: SshdHandle, output: Output, hub: PageHub): Promise<NonNullable<BrowserResult['direct']>> {
  const extension = writePageProbeExtension({ gatewayOrigin: gateway.origin, hubOrigin: hub.origin, terminalPath: TERMINAL_PATH, credentials: BENCH_CREDENTIALS });
  const browsers: DirectChromium[] = [];
  try {
    browsers.push(launchDirectChromium(`${gateway.origin}/login?next=${encodeURIComponent(TERMINAL_PATH)}`, VIEWPORT, RENDER_ARGS, extension));
    await hub.call('page', { type: 'connected' }, PAGE_START_TIMEOUT_MS);
    await hub.call('page', { type: 'type', text: `${PROMPT_SETUP}\r`, title: '^PROMPT' }, PROMPT_TIMEOUT_MS);
    const layout = await hub.call<Layout>('page', { type: 'layout' }, PROMPT_TIMEOUT_MS);
    if (layout.viewport !== `${VIEWPORT.width}×${VIEWPORT.height}`) options.log(`  !! the page's viewport is ${layout.viewport}, not ${VIEWPORT.width}×${VIEWPORT.height} as with Playwright (HEADLESS_WINDOW_FRAME_PX)`);
    browsers.push(launchDirectChromium(bareUrl(hub.origin, layout, true), VIEWPORT, RENDER_ARGS));
    const bare = await hub.call<{ renderer: string; size: string }>('bare', { type: 'info' }, PAGE_START_TIMEOUT_MS);
    options.log(`  without DevTools: renderer page ${layout.renderer}, bare ${bare.renderer}; ${bare.size} cells in ${layout.width}×${layout.height} px`);

    // The ceiling any terminal path has here: the same `cat` read by ssh2 directly, no browser.
    const direct = await ssh2Leg(keyEndpoint(sshd));
    await direct.run(commandWithMarker('stty -echo', 'PORTHOLE_SYNC'), 'PORTHOLE_SYNC', PROMPT_TIMEOUT_MS);
    const pageSeconds: number[] = [];
    const bareSeconds: number[] = [];
    const ptySeconds: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      for (const side of alternate(['page', 'bare', 'pty'] as const, run)) {
        if (side === 'page') {
          const cat = catCommand(output.file);
          pageSeconds.push((await hub.call<number>('page', { type: 'type', text: `${cat.line}\r`, title: cat.tag }, DISPLAY_TIMEOUT_MS)) / 1000);
        } else if (side === 'bare') bareSeconds.push(await hub.call<number>('bare', { type: 'display', tag: bareTag() }, DISPLAY_TIMEOUT_MS));
        else {
          const marker = `PORTHOLE_CAT_DONE_${run}`;
          ptySeconds.push((await direct.run(commandWithMarker(`cat ${output.file}`, marker), marker, DISPLAY_TIMEOUT_MS)).ms / 1000);
        }
      }
      options.log(`  run ${run + 1}: page ${pageSeconds[run]?.toFixed(2)} s, bare xterm.js ${bareSeconds[run]?.toFixed(2)} s, PTY via ssh2 ${ptySeconds[run]?.toFixed(2)} s`);
    }
    await direct.close();
    const ctrlC: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      await hub.call('page', { type: 'send', text: 'yes porthole-bench-flood\r' }, PROMPT_TIMEOUT_MS);
      await sleep(FLOOD_BEFORE_CTRL_C_MS);
      ctrlC.push(await hub.call<number>('page', { type: 'type', text: '\x03', title: '^PROMPT' }, PROMPT_TIMEOUT_MS));
      options.log(`  Ctrl-C → prompt: ${ctrlC[run]?.toFixed(0)} ms`);
    }
    const bytes = output.pty.length;
    const receive = await measureReceive(options, hub, output);
    return {
      ...row(bytes, { page: layout.renderer, bare: bare.renderer }, bare.size, pageSeconds, bareSeconds, ctrlC),
      ptySeconds: spread(ptySeconds),
      ptyMBps: mbps(bytes, ptySeconds),
      pageToPty: spread(pageSeconds.map((s, i) => (ptySeconds[i] ?? NaN) / s)),
      receive,
    };
  } finally {
    for (const browser of browsers) await browser.stop();
    rmSync(extension, { recursive: true, force: true });
  }
}

/** The Worker prototype on the bare page: main-thread and Worker receive alternate. */
async function measureReceive(options: CaseOptions, hub: PageHub, output: Output): Promise<NonNullable<NonNullable<BrowserResult['direct']>['receive']>> {
  const feed = await startFeedServer(output.pty);
  try {
    const main: number[] = [];
    const worker: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      for (const mode of alternate(['main', 'worker'] as const, run)) {
        const seconds = await hub.call<number>('bare', { type: 'receive', mode, url: feed.url, tag: bareTag() }, DISPLAY_TIMEOUT_MS);
        (mode === 'main' ? main : worker).push(seconds);
      }
      options.log(`  receive run ${run + 1}: main thread ${main[run]?.toFixed(2)} s, Worker ${worker[run]?.toFixed(2)} s`);
    }
    const bytes = output.pty.length;
    return { mainSeconds: spread(main), workerSeconds: spread(worker), mainMBps: mbps(bytes, main), workerMBps: mbps(bytes, worker), workerToMain: spread(worker.map((s, i) => (main[i] ?? NaN) / s)) };
  } finally {
    await feed.close();
  }
}

// ---- With Playwright: DevTools attached, as the bench measured before issue #18.

async function probe(page: Page): Promise<Probe> {
  return await page.evaluate(() => (window as unknown as { __bench: Probe }).__bench);
}

async function waitForTitle(page: Page, pattern: RegExp, after: number, timeoutMs: number): Promise<{ title: string; shownAt: number }> {
  return await withDeadline(`title ${String(pattern)}`, timeoutMs, async () => {
    for (;;) {
      const found = (await probe(page)).titles.find((e) => e.t > after && pattern.test(e.title));
      if (found && found.shownAt !== null) return { title: found.title, shownAt: found.shownAt };
      await sleep(20);
    }
  });
}

async function lastKey(page: Page, key: string, ctrl: boolean): Promise<number> {
  const keys = (await probe(page)).keys.filter((k) => k.key.toLowerCase() === key.toLowerCase() && k.ctrl === ctrl);
  return keys[keys.length - 1]?.t ?? NaN;
}

async function typeLine(page: Page, text: string): Promise<number> {
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  return await lastKey(page, 'Enter', false);
}

async function displayOnPage(page: Page, file: string): Promise<number> {
  const cat = catCommand(file);
  const enterAt = await typeLine(page, cat.line);
  const shown = await waitForTitle(page, new RegExp(cat.tag), enterAt, DISPLAY_TIMEOUT_MS);
  return (shown.shownAt - enterAt) / 1000;
}

async function ctrlCToPrompt(page: Page): Promise<number> {
  await typeLine(page, 'yes porthole-bench-flood');
  await sleep(FLOOD_BEFORE_CTRL_C_MS);
  await page.keyboard.press('Control+C');
  // With Ctrl held, Playwright reports the key as "C".
  const pressed = await lastKey(page, 'C', true);
  const prompt = await waitForTitle(page, /^PROMPT/, pressed, PROMPT_TIMEOUT_MS);
  return prompt.shownAt - pressed;
}

async function measurePlaywright(options: CaseOptions, gateway: BenchGateway, output: Output, hub: PageHub): Promise<BrowserRow> {
  const browser: Browser = await launchChromium(RENDER_ARGS);
  try {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await page.addInitScript(PAGE_PROBE);
    await signInThroughForm(page, gateway.origin, BENCH_CREDENTIALS, TERMINAL_PATH);
    await page.locator('#conn-state[data-state="connected"]').waitFor({ timeout: PAGE_START_TIMEOUT_MS });
    const promptsBefore = (await probe(page)).titles.length;
    await typeLine(page, PROMPT_SETUP);
    await withDeadline('prompt hook', PROMPT_TIMEOUT_MS, async () => {
      while ((await probe(page)).titles.slice(promptsBefore).every((e) => !e.title.startsWith('PROMPT'))) await sleep(20);
    });
    const layout = await page.evaluate(() => {
      const host = document.getElementById('terminal') as HTMLElement;
      const rect = host.getBoundingClientRect();
      return { width: rect.width, height: rect.height, renderer: host.querySelector('canvas') ? 'webgl' : 'dom' };
    });
    const bare = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    await bare.goto(bareUrl(hub.origin, layout, false));
    const bareInfo = await bare.evaluate<{ renderer: string; size: string }>('window.__bare.info()');
    options.log(`  with Playwright: renderer page ${layout.renderer}, bare ${bareInfo.renderer}; ${bareInfo.size} cells in ${layout.width}×${layout.height} px`);
    const pageSeconds: number[] = [];
    const bareSeconds: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      for (const side of alternate(['page', 'bare'] as const, run)) {
        if (side === 'page') pageSeconds.push(await displayOnPage(page, output.file));
        // A string, not a function: the bench runs under tsx, whose helpers do not exist in the page.
        else bareSeconds.push(await bare.evaluate<number>(`window.__bare.display(${JSON.stringify(bareTag())})`));
      }
      options.log(`  run ${run + 1} (Playwright): page ${pageSeconds[run]?.toFixed(2)} s, bare xterm.js ${bareSeconds[run]?.toFixed(2)} s`);
    }
    const ctrlC: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      ctrlC.push(await ctrlCToPrompt(page));
      options.log(`  Ctrl-C → prompt (Playwright): ${ctrlC[run]?.toFixed(0)} ms`);
    }
    return row(output.pty.length, { page: layout.renderer, bare: bareInfo.renderer }, bareInfo.size, pageSeconds, bareSeconds, ctrlC);
  } finally {
    await browser.close();
  }
}

export const browserCase: BenchCase = {
  name: 'browser',
  title: 'Terminal page in Chromium: 50 MB display and Ctrl-C during yes, without DevTools and with Playwright',
  async run(options: CaseOptions): Promise<BrowserResult> {
    const bytes = options.quick ? QUICK_BYTES : FULL_BYTES;
    const output = makeOutputFile(bytes);
    const sshd = await startBenchSshd();
    const gateway = await startBenchGateway();
    const hub = await startPageHub(bareXtermFiles(output.pty));
    try {
      await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd) });
      const direct = await measureDirect(options, gateway, sshd, output, hub);
      const playwright = await measurePlaywright(options, gateway, output, hub);
      return { case: 'browser', version: 2, date: new Date().toISOString(), bytes: output.pty.length, ...playwright, direct };
    } finally {
      await hub.close();
      await gateway.stop();
      await sshd.stop();
      rmSync(output.dir, { recursive: true, force: true });
    }
  },
};
