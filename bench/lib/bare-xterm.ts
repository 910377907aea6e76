/**
 * xterm.js alone in a page, set up as the terminal page sets it up (client/src/terminal/create-terminal.ts:
 * the same options and the same addons — fit, unicode11, search, web-links, and WebGL when the
 * browser has it), fed bytes from memory. Served by the bench's page hub; driven either over the
 * hub (`?hub`, Chromium without DevTools) or by Playwright calling `window.__bare.display(tag)`.
 */
import { readFileSync } from 'node:fs';
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
window.__bare = { display, info: () => data.then(() => ({ renderer, size: term.cols + '×' + term.rows })) };
if (params.has('hub')) serve('bare', { info: () => window.__bare.info(), display: (c) => display(c.tag) });
</script></body></html>`;
}
