/**
 * xterm.js alone in a page, set up as the terminal page sets it up (client/src/terminal/create-terminal.ts:
 * the same options and the same addons — fit, unicode11, search, web-links, and WebGL when the
 * browser has it), fed bytes from memory. Served by the bench's page hub; driven either over the
 * hub (`?hub`, Chromium without DevTools) or by Playwright calling `window.__bare.display(tag)`.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TERMINAL_ACK_BATCH_BYTES, TERMINAL_ACK_MIN_BYTES, TERMINAL_OUTPUT_BATCH_BYTES, TERMINAL_UNACKED_HIGH_BYTES } from '../../shared/src/limits.js';
import { join, resolve } from 'node:path';
import { pageServeScript, TITLE_PROBE, type StaticFile } from './direct-chromium.js';

const XTERM_DIR = resolve(import.meta.dirname, '..', '..', 'node_modules', '@xterm');
/** What xterm.js receives per write: about what the gateway sends per frame. */
const FEED_CHUNK_BYTES = 64 * 1024;
/** Queued in xterm.js at most: ample to keep its parser busy, far below its 50 MB discard mark. */
const IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/** The terminal page's font (client/src/terminal/create-terminal.ts), so both sides get the same cell grid. */
export const PAGE_FONT = { family: 'ui-monospace, "SF Mono", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace', sizePx: 14 } as const;
/** The terminal page's scrollback (create-terminal.ts), which bounds the buffer xterm.js keeps trimming. */
const SCROLLBACK_LINES = 10_000;

const ADDONS = ['addon-fit', 'addon-unicode11', 'addon-search', 'addon-web-links', 'addon-webgl'] as const;

/** The page and its scripts, keyed by path, and `/data`: the bytes to display. */
export function bareXtermFiles(data: Buffer): Record<string, StaticFile> {
  const files: Record<string, StaticFile> = {
    '/bare': { body: bareHtml(), type: 'text/html' },
    '/xterm.css': { body: readFileSync(join(XTERM_DIR, 'xterm', 'css', 'xterm.css')), type: 'text/css' },
    '/xterm.js': { body: readFileSync(join(XTERM_DIR, 'xterm', 'lib', 'xterm.js')), type: 'text/javascript' },
    '/data': { body: data, type: 'application/octet-stream' },
  };
  for (const addon of ADDONS) files[`/${addon}.js`] = { body: readFileSync(join(XTERM_DIR, addon, 'lib', `${addon}.js`)), type: 'text/javascript' };
  return files;
}

/** The bare page's address for a host of `size` CSS pixels; `hub`: it takes commands from the hub. */
export function bareUrl(origin: string, size: { width: number; height: number }, hub: boolean): string {
  return `${origin}/bare?w=${size.width}&h=${size.height}${hub ? '&hub' : ''}`;
}

function bareHtml(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>bare xterm.js</title><link rel="stylesheet" href="/xterm.css">
<style>html,body{margin:0;background:#0b0f14;overflow:hidden}#terminal{position:absolute;left:0;top:0}</style>
<script src="/xterm.js"></script>${ADDONS.map((a) => `<script src="/${a}.js"></script>`).join('')}</head>
<body><main id="terminal"></main>
<script>
${TITLE_PROBE}
${pageServeScript(null)}
const params = new URLSearchParams(location.search);
const host = document.getElementById('terminal');
host.style.width = params.get('w') + 'px';
host.style.height = params.get('h') + 'px';
const term = new Terminal({
  cursorBlink: true,
  scrollback: ${SCROLLBACK_LINES},
  allowProposedApi: true,
  fontFamily: ${JSON.stringify(PAGE_FONT.family)},
  fontSize: ${PAGE_FONT.sizePx},
  theme: { background: '#0b0f14', foreground: '#e6edf3', cursor: '#e6edf3', cursorAccent: '#0b0f14' },
  macOptionIsMeta: true,
  rightClickSelectsWord: false,
});
const fit = new FitAddon.FitAddon();
term.loadAddon(fit);
term.loadAddon(new Unicode11Addon.Unicode11Addon());
term.unicode.activeVersion = '11';
term.loadAddon(new SearchAddon.SearchAddon());
term.loadAddon(new WebLinksAddon.WebLinksAddon());
term.open(host);
let renderer = 'dom';
try {
  term.loadAddon(new WebglAddon.WebglAddon());
  renderer = 'webgl';
} catch {}
fit.fit();
// As on the real page: the VM's title goes to document.title.
term.onTitleChange((t) => { document.title = t; });
watchTitle();
const data = fetch('/data').then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b));
// xterm.js drops writes beyond 50 MB queued, so a bounded amount stays in flight with write
// callbacks, as the real page's acks do (but with no network in between).
async function display(tag) {
  const bytes = await data;
  const t0 = performance.now();
  let offset = 0;
  let inFlight = 0;
  const pump = () => {
    while (inFlight < ${IN_FLIGHT_BYTES} && offset < bytes.length) {
      const part = bytes.subarray(offset, offset + ${FEED_CHUNK_BYTES});
      offset += part.length;
      inFlight += part.length;
      term.write(part, () => { inFlight -= part.length; pump(); });
    }
    if (offset >= bytes.length && inFlight === 0) term.write('\\x1b]0;' + tag + '\\x07');
  };
  pump();
  const shown = await waitTitle(tag, t0);
  return (shown.shownAt - t0) / 1000;
}
// Issue #18, point 3, a prototype outside the product: the same bytes over a WebSocket from the
// bench's feed server (gateway-sized frames, the gateway's credit, acks batched as the page
// batches them), received on the main thread as the page does, or in a Worker that transfers
// each frame's bytes to the main thread for term.write.
const WORKER_SOURCE = \`
let ws;
onmessage = (e) => {
  if (e.data.type === 'open') {
    ws = new WebSocket(e.data.url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ws.send(JSON.stringify({ type: 'start', tag: e.data.tag }));
    ws.onmessage = (m) => postMessage(m.data, [m.data]);
  } else if (e.data.type === 'ack') ws.send(JSON.stringify({ type: 'ack', bytes: e.data.bytes }));
  else if (e.data.type === 'close') ws.close();
};
\`;
const workerUrl = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
function receive(mode, url, tag) {
  const t0 = performance.now();
  let outstanding = 0;
  let unacked = 0;
  let send;
  let close;
  const onFrame = (buffer) => {
    const bytes = new Uint8Array(buffer);
    outstanding += 1;
    term.write(bytes, () => {
      outstanding -= 1;
      unacked += bytes.length;
      if (unacked >= ${TERMINAL_ACK_BATCH_BYTES} || (outstanding === 0 && unacked >= ${TERMINAL_ACK_MIN_BYTES})) {
        send(unacked);
        unacked = 0;
      }
    });
  };
  if (mode === 'worker') {
    const worker = new Worker(workerUrl);
    worker.onmessage = (e) => onFrame(e.data);
    send = (n) => worker.postMessage({ type: 'ack', bytes: n });
    close = () => { worker.postMessage({ type: 'close' }); worker.terminate(); };
    worker.postMessage({ type: 'open', url, tag });
  } else {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ws.send(JSON.stringify({ type: 'start', tag }));
    ws.onmessage = (m) => onFrame(m.data);
    send = (n) => ws.send(JSON.stringify({ type: 'ack', bytes: n }));
    close = () => ws.close();
  }
  return waitTitle(tag, t0).then((shown) => {
    close();
    return (shown.shownAt - t0) / 1000;
  });
}
window.__bare = { display, receive, info: () => data.then(() => ({ renderer, size: term.cols + '×' + term.rows })) };
if (params.has('hub')) serve('bare', { info: () => window.__bare.info(), display: (c) => display(c.tag), receive: (c) => receive(c.mode, c.url, c.tag) });
</script></body></html>`;
}

/**
 * The feed for the Worker prototype: on `{"type":"start","tag"}` sends `data` then the title OSC
 * `tag`, in frames of the gateway's batch size, never more than the gateway's credit unacknowledged.
 */
export async function startFeedServer(data: Buffer): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((done) => server.once('listening', done));
  server.on('connection', (ws: WebSocket) => {
    let stream: Buffer | null = null;
    let offset = 0;
    let unacked = 0;
    const pump = (): void => {
      while (stream && offset < stream.length && unacked < TERMINAL_UNACKED_HIGH_BYTES) {
        const frame = stream.subarray(offset, offset + TERMINAL_OUTPUT_BATCH_BYTES);
        offset += frame.length;
        unacked += frame.length;
        ws.send(frame, { binary: true });
      }
    };
    ws.on('message', (message: Buffer, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(message.toString('utf8')) as { type: string; tag?: string; bytes?: number };
      if (m.type === 'start') {
        stream = Buffer.concat([data, Buffer.from(`\x1b]0;${m.tag ?? ''}\x07`, 'latin1')]);
        offset = 0;
        unacked = 0;
      } else if (m.type === 'ack') unacked -= m.bytes ?? 0;
      pump();
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((done) => {
        for (const client of server.clients) client.terminate();
        server.close(() => done());
      }),
  };
}
