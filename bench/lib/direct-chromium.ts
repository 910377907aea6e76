/**
 * Chromium without DevTools: started as a plain child process (no --remote-debugging-port, no
 * Playwright), its pages driven and read over a loopback HTTP server of the bench's own.
 *
 * Playwright attaches over the DevTools protocol and enables network monitoring, which copies
 * every WebSocket frame to the test process (issue #18: a count-only page drops from 120 to
 * 29 MB/s under it). Here nothing is attached: a page long-polls the bench for its next command
 * (`GET /next`), does it, and posts the answer (`POST /result`). The pages' scripts are either the
 * bench's own (a page the bench serves) or an unpacked extension's content script (the product's
 * pages, which the bench must not change): content scripts run in an isolated world, see the same
 * DOM, and their requests to the bench are not bound by the page's Content-Security-Policy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { withDeadline } from './deadline.js';
import { chromiumTrace } from './chromium-trace.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
/** An idle page asks again after this long, so no request is left open for the browser or Node to time out. */
const LONG_POLL_MS = 20_000;
/** A helper process killed last may still hold the profile for a moment: rm retries (100 ms apart) this often. */
const PROFILE_RM_RETRIES = 10;
/** Chromium exits within a second of SIGTERM; past this it is killed. */
const CHROMIUM_STOP_GRACE_MS = 5_000;

/**
 * Playwright's own switches that shape scheduling and rendering (its chromiumSwitches, minus
 * --remote-debugging-port and --disable-extensions), plus the test helpers' (test/helpers/chromium.ts),
 * so the two ways of running Chromium differ in DevTools only.
 */
const DIRECT_SWITCHES: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
  '--disable-ipc-flooding-protection',
  '--disable-hang-monitor',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
  '--disable-breakpad',
  '--force-color-profile=srgb',
  '--password-store=basic',
  '--metrics-recording-only',
  '--hide-scrollbars',
  '--mute-audio',
];

/**
 * A headless window keeps the height of its tab strip and toolbar (Chromium 156: an 800 px window
 * has a 657 px viewport), which Playwright's viewport emulation does not: added so both get the
 * same viewport. The bench checks the page's innerHeight and says when this is off.
 */
const HEADLESS_WINDOW_FRAME_PX = 143;

export interface DirectChromium {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Chromium on `url` in a fresh profile with a `viewport`, optionally with an unpacked extension; nothing attached. */
export function launchDirectChromium(url: string, viewport: { width: number; height: number }, extraArgs: readonly string[], extensionDir?: string): DirectChromium {
  const profile = mkdtempSync(join(tmpdir(), 'porthole-bench-chromium-'));
  const trace = chromiumTrace();
  const extension = extensionDir ? [`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`] : ['--disable-extensions'];
  // Its own process group: Chromium's helpers (GPU, network, renderers) are stopped with it.
  const child = spawn(CHROMIUM_PATH, [...DIRECT_SWITCHES, `--user-data-dir=${profile}`, `--window-size=${viewport.width},${viewport.height + HEADLESS_WINDOW_FRAME_PX}`, ...extension, ...(trace?.args ?? []), ...extraArgs, url], {
    stdio: 'ignore',
    detached: true,
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // Already gone.
    }
  };
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    process: child,
    async stop() {
      await trace?.written();
      if (child.exitCode === null && child.signalCode === null) {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), CHROMIUM_STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      // Helpers that outlived the browser process may still be writing to the profile.
      signal('SIGKILL');
      rmSync(profile, { recursive: true, force: true, maxRetries: PROFILE_RM_RETRIES });
    },
  };
}

export interface StaticFile {
  readonly body: Buffer | string;
  readonly type: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The loopback server pages talk to: static files, and commands to named pages. */
export interface PageHub {
  readonly origin: string;
  /** Sends `command` to page `name` (once it polls) and resolves with its answer. */
  call<T>(name: string, command: Readonly<Record<string, unknown>>, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

export async function startPageHub(files: Readonly<Record<string, StaticFile>>): Promise<PageHub> {
  const queues = new Map<string, object[]>();
  const polls = new Map<string, http.ServerResponse>();
  const pending = new Map<number, Pending>();
  let nextId = 0;
  const json = (res: http.ServerResponse, value: unknown): void => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' });
    res.end(JSON.stringify(value));
  };
  const deliver = (name: string): void => {
    const res = polls.get(name);
    const queue = queues.get(name);
    if (!res || !queue || queue.length === 0) return;
    const command = queue.shift();
    polls.delete(name);
    json(res, command);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const name = url.searchParams.get('page') ?? '';
    if (req.method === 'GET' && url.pathname === '/next') {
      polls.get(name)?.end();
      polls.set(name, res);
      const timer = setTimeout(() => {
        if (polls.get(name) === res) {
          polls.delete(name);
          json(res, { type: 'idle' });
        }
      }, LONG_POLL_MS);
      res.once('close', () => {
        clearTimeout(timer);
        // A page that went away (its browser stopped) must not be handed the next command.
        if (polls.get(name) === res) polls.delete(name);
      });
      deliver(name);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/result') {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        json(res, { ok: true });
        const answer = JSON.parse(text) as { id: number; ok: boolean; value?: unknown; error?: string };
        const waiter = pending.get(answer.id);
        pending.delete(answer.id);
        if (answer.ok) waiter?.resolve(answer.value);
        else waiter?.reject(new Error(`page ${name}: ${answer.error ?? 'failed'}`));
      });
      return;
    }
    const file = files[url.pathname];
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': Buffer.byteLength(file.body), 'Cache-Control': 'no-store' });
      res.end(file.body);
      return;
    }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = LONG_POLL_MS * 2;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    call: <T>(name: string, command: Readonly<Record<string, unknown>>, timeoutMs: number) => {
      const id = ++nextId;
      const queued = { ...command, id };
      return withDeadline(
        `page ${name}: ${String(command['type'])}`,
        timeoutMs,
        () =>
          new Promise<T>((resolve, reject) => {
            pending.set(id, { resolve: (v) => resolve(v as T), reject });
            const queue = queues.get(name) ?? [];
            queue.push(queued);
            queues.set(name, queue);
            deliver(name);
          }),
        // A command nobody took must not reach the next page polling under the same name (the
        // next leg's fresh browser), and a late answer has no one to go to.
        () => {
          const queue = queues.get(name);
          const at = queue?.indexOf(queued) ?? -1;
          if (at >= 0) queue?.splice(at, 1);
          pending.delete(id);
        },
      );
    },
    async close() {
      for (const res of polls.values()) res.end();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * The page side of the hub, as a script: `serve(name, handlers)` polls for commands and answers
 * them (`hubOrigin` null: the page is the hub's own). Only DOM and fetch, so it runs in a page or an extension's isolated world alike.
 */
export function pageServeScript(hubOrigin: string | null): string {
  return `
async function serve(name, handlers) {
  const base = ${hubOrigin === null ? 'location.origin' : JSON.stringify(hubOrigin)};
  for (;;) {
    let command;
    try {
      command = await (await fetch(base + '/next?page=' + name, { cache: 'no-store' })).json();
    } catch {
      continue;
    }
    if (command.type === 'idle') continue;
    let answer;
    try {
      answer = { id: command.id, ok: true, value: await handlers[command.type](command) };
    } catch (error) {
      answer = { id: command.id, ok: false, error: String(error && error.stack || error) };
    }
    await fetch(base + '/result?page=' + name, { method: 'POST', body: JSON.stringify(answer) });
  }
}
`;
}

/**
 * The product's sign-in, as a script: `signIn()` fills the login form and submits it as a person
 * would, so the page's own session cookie is set. For an extension's content script on /login.
 */
export function signInScript(credentials: { readonly email: string; readonly password: string }): string {
  return `
function signIn() {
  document.getElementById('email').value = ${JSON.stringify(credentials.email)};
  document.getElementById('password').value = ${JSON.stringify(credentials.password)};
  document.querySelector('form[action="/auth/login"]').requestSubmit();
}
`;
}

/**
 * Title changes stamped as the page shows them, and waits on them: a MutationObserver on the
 * <title> element (set by the page's own script, whose setter a content script cannot hook), and
 * the frame after it. The observer runs at the end of the task that set the title, so the frame it
 * asks for is the one that shows it, as with a hook on the setter.
 */
export const TITLE_PROBE = `
const titles = [];
const titleWaiters = new Set();
// One task may set the title more than once (the shell's DONE title, then its prompt's): each set
// replaces the <title>'s text node, so every record's added node is one title, in order.
function recordTitles(records) {
  const t = performance.now();
  const entries = [];
  for (const record of records) {
    for (const node of record.addedNodes) entries.push({ title: node.textContent, t, shownAt: null });
  }
  titles.push(...entries);
  requestAnimationFrame(() => {
    const shownAt = performance.now();
    for (const entry of entries) entry.shownAt = shownAt;
    for (const waiter of [...titleWaiters]) waiter();
  });
}
function watchTitle() {
  new MutationObserver(recordTitles).observe(document.querySelector('title'), { childList: true });
}
function waitTitle(pattern, after) {
  const re = new RegExp(pattern);
  return new Promise((resolve) => {
    const check = () => {
      const found = titles.find((e) => e.t > after && e.shownAt !== null && re.test(e.title));
      if (found) {
        titleWaiters.delete(check);
        resolve(found);
      }
    };
    titleWaiters.add(check);
    check();
  });
}
`;
