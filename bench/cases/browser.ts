/**
 * In Chromium, on the real terminal page: the time to display 50 MB of shell output, against
 * xterm.js in a bare page fed the same bytes (same size, font and renderer), alternating the two;
 * and the time from Ctrl-C during `yes` to the prompt being back on screen.
 *
 * Times are taken in the page: a keydown listener stamps the key, and a hook on document.title
 * stamps the frame after the page shows the title the shell sets once it is done (OSC 0). The
 * terminal page sets the tab title from the VM's OSC title as soon as xterm.js parses it, so that
 * is the moment all output before it has been parsed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { BenchCase, CaseOptions } from '../lib/case.js';
import { BENCH_CREDENTIALS, keyEndpoint, startBenchGateway, startBenchSshd } from '../lib/gateway-process.js';
import { launchChromium, signInThroughForm } from '../../test/helpers/chromium.js';
import { alternate, spread, type Spread } from '../lib/stats.js';
import { ssh2Leg } from '../lib/shell-legs.js';
import { commandWithMarker } from '../lib/marker.js';
import { sleep, withDeadline } from '../lib/deadline.js';

const BUILD_ID = 'bench-browser';
const FULL_BYTES = 50_000_000;
const QUICK_BYTES = 5_000_000;
/** base64(1)'s line length, as build logs look. */
const LINE_CHARS = 76;
const VIEWPORT = { width: 1280, height: 800 } as const;
/** What xterm.js receives per write on the bare page: about what the gateway sends per frame. */
const FEED_CHUNK_BYTES = 64 * 1024;
/** Queued in the bare page's xterm.js at most: ample to keep its parser busy, far below its 50 MB discard mark. */
const BARE_IN_FLIGHT_BYTES = 4 * 1024 * 1024;
const DISPLAY_TIMEOUT_MS = 120_000;
const PROMPT_TIMEOUT_MS = 30_000;
/** `yes` runs this long before Ctrl-C, so the pipeline is full as in a real flood. */
const FLOOD_BEFORE_CTRL_C_MS = 1_500;
const XTERM_DIR = resolve(import.meta.dirname, '..', '..', 'node_modules', '@xterm');
/** The bare page's origin, served by Playwright's router; nothing leaves the machine. */
const BARE_ORIGIN = 'http://xterm-bare.bench.invalid';
/** The terminal page's font (client/src/terminal/create-terminal.ts), so both sides get the same cell grid. */
const PAGE_FONT = { family: 'ui-monospace, "SF Mono", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace', sizePx: 14 } as const;

/** Installed before any page script: stamps keys and title changes with the page's clock. */
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

export interface BrowserResult {
  readonly case: 'browser';
  readonly date: string;
  readonly bytes: number;
  readonly renderer: { page: string; bare: string };
  readonly terminalSize: string;
  readonly pageSeconds: Spread;
  readonly bareSeconds: Spread;
  readonly pageMBps: Spread;
  readonly bareMBps: Spread;
  /** Bare ÷ page time per run: 1 means the page shows output as fast as xterm.js alone can. */
  readonly ratio: Spread;
  readonly ctrlCToPromptMs: Spread;
  /** The same `cat` read by ssh2 directly: the PTY's own ceiling on this machine. */
  readonly ptySeconds: Spread;
  readonly ptyMBps: Spread;
  /** PTY-alone ÷ page time per run: how close the page gets to what the VM side can deliver. */
  readonly pageToPty: Spread;
}

function makeOutputFile(bytes: number): { dir: string; file: string; pty: Buffer } {
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

let doneCount = 0;
async function displayOnPage(page: Page, file: string): Promise<number> {
  doneCount += 1;
  const tag = `BENCHDONE${doneCount}`;
  const enterAt = await typeLine(page, `cat ${file}; printf '\\033]0;%s%s\\007' BENCH DONE${doneCount}`);
  const shown = await waitForTitle(page, new RegExp(tag), enterAt, DISPLAY_TIMEOUT_MS);
  return (shown.shownAt - enterAt) / 1000;
}

function bareHtml(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/xterm.css">
<style>html,body{margin:0;background:#0b0f14;overflow:hidden}#terminal{position:absolute;left:0;top:0}</style>
<script src="/xterm.js"></script><script src="/addon-webgl.js"></script><script src="/addon-fit.js"></script></head>
<body><main id="terminal"></main></body></html>`;
}

async function openBarePage(browser: Browser, size: { width: number; height: number; font: string; fontSize: number }, data: Buffer): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await page.addInitScript(PAGE_PROBE);
  const files: Record<string, { body: Buffer | string; type: string }> = {
    '/': { body: bareHtml(), type: 'text/html' },
    '/xterm.css': { body: readFileSync(join(XTERM_DIR, 'xterm', 'css', 'xterm.css')), type: 'text/css' },
    '/xterm.js': { body: readFileSync(join(XTERM_DIR, 'xterm', 'lib', 'xterm.js')), type: 'text/javascript' },
    '/addon-webgl.js': { body: readFileSync(join(XTERM_DIR, 'addon-webgl', 'lib', 'addon-webgl.js')), type: 'text/javascript' },
    '/addon-fit.js': { body: readFileSync(join(XTERM_DIR, 'addon-fit', 'lib', 'addon-fit.js')), type: 'text/javascript' },
    '/data': { body: data, type: 'application/octet-stream' },
  };
  await page.route(`${BARE_ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = files[path];
    await (file ? route.fulfill({ status: 200, body: file.body, contentType: file.type }) : route.fulfill({ status: 404 }));
  });
  await page.goto(`${BARE_ORIGIN}/`);
  await page.evaluate(async (s) => {
    type XtermGlobals = {
      Terminal: new (o: object) => { open(e: HTMLElement): void; loadAddon(a: object): void; onTitleChange(f: (t: string) => void): void; write(d: Uint8Array, cb?: () => void): void; cols: number; rows: number };
      WebglAddon: { WebglAddon: new () => object };
      FitAddon: { FitAddon: new () => { fit(): void } };
      __term: unknown;
      __data: Uint8Array;
      __renderer: string;
    };
    const w = window as unknown as XtermGlobals;
    const host = document.getElementById('terminal') as HTMLElement;
    host.style.width = `${s.width}px`;
    host.style.height = `${s.height}px`;
    const term = new w.Terminal({ scrollback: 10_000, fontFamily: s.font, fontSize: s.fontSize, allowProposedApi: true });
    const fit = new w.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(host);
    try {
      term.loadAddon(new w.WebglAddon.WebglAddon());
      w.__renderer = 'webgl';
    } catch {
      w.__renderer = 'dom';
    }
    fit.fit();
    // As on the real page: the VM's title goes to document.title.
    term.onTitleChange((t) => {
      document.title = t;
    });
    w.__term = term;
    w.__data = new Uint8Array(await (await fetch('/data')).arrayBuffer());
  }, size);
  return page;
}

let bareCount = 0;
async function displayOnBarePage(page: Page): Promise<number> {
  bareCount += 1;
  const tag = `BAREDONE${bareCount}`;
  // A string, not a function: the bench runs under tsx, whose helpers do not exist in the page.
  // xterm.js drops writes beyond 50 MB queued, so the bare page keeps a bounded amount in flight
  // with write callbacks, as the real page's acks do (but with no network in between).
  const started = await page.evaluate<number>(`(() => {
    const term = window.__term;
    const data = window.__data;
    const t0 = performance.now();
    let offset = 0;
    let inFlight = 0;
    function pump() {
      while (inFlight < ${BARE_IN_FLIGHT_BYTES} && offset < data.length) {
        const part = data.subarray(offset, offset + ${FEED_CHUNK_BYTES});
        offset += part.length;
        inFlight += part.length;
        term.write(part, () => { inFlight -= part.length; pump(); });
      }
      if (offset >= data.length && inFlight === 0) term.write('\\x1b]0;${tag}\\x07');
    }
    pump();
    return t0;
  })()`);
  const shown = await waitForTitle(page, new RegExp(tag), started, DISPLAY_TIMEOUT_MS);
  return (shown.shownAt - started) / 1000;
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

export const browserCase: BenchCase = {
  name: 'browser',
  title: 'Terminal page in Chromium: 50 MB display and Ctrl-C during yes',
  async run(options: CaseOptions): Promise<BrowserResult> {
    const bytes = options.quick ? QUICK_BYTES : FULL_BYTES;
    const output = makeOutputFile(bytes);
    const sshd = await startBenchSshd();
    const gateway = await startBenchGateway();
    // No GPU here: software WebGL (SwiftShader) draws slower than xterm.js's DOM renderer, so both
    // pages get the DOM renderer, as a browser without usable WebGL does.
    const browser = await launchChromium(['--disable-3d-apis']);
    try {
      await gateway.registerBuild(BUILD_ID, { ssh: keyEndpoint(sshd) });
      const context = await browser.newContext({ viewport: VIEWPORT });
      const page = await context.newPage();
      await page.addInitScript(PAGE_PROBE);
      await signInThroughForm(page, gateway.origin, BENCH_CREDENTIALS, `/builds/${BUILD_ID}/terminal`);
      await page.locator('#conn-state[data-state="connected"]').waitFor({ timeout: 30_000 });
      // A plain prompt that announces itself through the title, so the bench sees it arrive.
      const promptsBefore = (await probe(page)).titles.length;
      await typeLine(page, `PS1='$ '; PROMPT_COMMAND='printf "\\033]0;PROMPT%s\\007" $((++N))'`);
      await withDeadline('prompt hook', PROMPT_TIMEOUT_MS, async () => {
        while ((await probe(page)).titles.slice(promptsBefore).every((e) => !e.title.startsWith('PROMPT'))) await sleep(20);
      });
      const layout = await page.evaluate(() => {
        const host = document.getElementById('terminal') as HTMLElement;
        const rect = host.getBoundingClientRect();
        const rows = host.querySelectorAll('.xterm-rows > div').length;
        return { width: rect.width, height: rect.height, renderer: host.querySelector('canvas') ? 'webgl' : 'dom', rows };
      });
      const bare = await openBarePage(browser, { width: layout.width, height: layout.height, font: PAGE_FONT.family, fontSize: PAGE_FONT.sizePx }, output.pty);
      const bareInfo = await bare.evaluate(() => {
        const w = window as unknown as { __renderer: string; __term: { cols: number; rows: number } };
        return { renderer: w.__renderer, size: `${w.__term.cols}×${w.__term.rows}` };
      });
      options.log(`  renderer: page ${layout.renderer}, bare ${bareInfo.renderer}; ${bareInfo.size} cells`);

      // The ceiling any terminal path has here: the same `cat` read by ssh2 directly, no browser.
      const direct = await ssh2Leg(keyEndpoint(sshd));
      await direct.run(commandWithMarker('stty -echo', 'PORTHOLE_SYNC'), 'PORTHOLE_SYNC', PROMPT_TIMEOUT_MS);
      const pageSeconds: number[] = [];
      const bareSeconds: number[] = [];
      const ptySeconds: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        for (const side of alternate(['page', 'bare', 'pty'] as const, run)) {
          if (side === 'page') pageSeconds.push(await displayOnPage(page, output.file));
          else if (side === 'bare') bareSeconds.push(await displayOnBarePage(bare));
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
        ctrlC.push(await ctrlCToPrompt(page));
        options.log(`  Ctrl-C → prompt: ${ctrlC[run]?.toFixed(0)} ms`);
      }
      return {
        case: 'browser',
        date: new Date().toISOString(),
        bytes: output.pty.length,
        renderer: { page: layout.renderer, bare: bareInfo.renderer },
        terminalSize: bareInfo.size,
        pageSeconds: spread(pageSeconds),
        bareSeconds: spread(bareSeconds),
        pageMBps: spread(pageSeconds.map((s) => output.pty.length / s / 1e6)),
        bareMBps: spread(bareSeconds.map((s) => output.pty.length / s / 1e6)),
        ratio: spread(pageSeconds.map((s, i) => (bareSeconds[i] ?? NaN) / s)),
        ptySeconds: spread(ptySeconds),
        ptyMBps: spread(ptySeconds.map((s) => output.pty.length / s / 1e6)),
        pageToPty: spread(pageSeconds.map((s, i) => (ptySeconds[i] ?? NaN) / s)),
        ctrlCToPromptMs: spread(ctrlC),
      };
    } finally {
      await browser.close();
      await gateway.stop();
      await sshd.stop();
      rmSync(output.dir, { recursive: true, force: true });
    }
  },
};
