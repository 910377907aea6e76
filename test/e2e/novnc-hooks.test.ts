/**
 * The screen's hook on noVNC's canvas copies (client/src/screen/novnc-hooks.ts, hookCanvasCopies),
 * in Chromium on a canvas without a GPU: two of noVNC's own Displays, one hooked, take the same
 * drawing — overlapping CopyRects in every direction, rectangles, flips — and must show the same
 * pixels. The other hooks are exercised through the screen page (screen*.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import ts from 'typescript';
import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/chromium.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NOVNC_DIR = join(ROOT, 'node_modules', '@novnc', 'novnc');
const HOOKS_SOURCE = join(ROOT, 'client', 'src', 'screen', 'novnc-hooks.ts');
const PAGE = '<!doctype html><meta charset="utf-8"><title>canvas copies</title><body></body>';
const W = 160;
const H = 120;
/**
 * Runs in the page (plain JavaScript: it is served, not compiled): the same drawing on a plain and
 * a hooked Display, then their visible canvases compared.
 */
const CHECK = `
import Display from '/novnc/core/display.js';
import { hookCanvasCopies } from '/hooks.js';
const W = ${W}, H = ${H};
function make() {
  const canvas = document.createElement('canvas');
  document.body.append(canvas);
  const display = new Display(canvas);
  display.resize(W, H);
  return { canvas, display };
}
function read(canvas) {
  return canvas.getContext('2d').getImageData(0, 0, W, H).data;
}
export async function run() {
  const plain = make();
  const hooked = make();
  const hookedOk = hookCanvasCopies({ _display: hooked.display });
  // A fixed pseudo-random picture, so every copy moves distinguishable pixels.
  const pixels = new Uint8Array(W * H * 4);
  let seed = 7;
  for (let i = 0; i < pixels.length; i++) pixels[i] = i % 4 === 3 ? 255 : (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  // A 2×2 PNG, so copies wait behind an image still decoding (noVNC queues them).
  const small = document.createElement('canvas');
  small.width = 2;
  small.height = 2;
  small.getContext('2d').fillStyle = '#ff0080';
  small.getContext('2d').fillRect(0, 0, 2, 2);
  const png = new Uint8Array(await (await new Promise((done) => small.toBlob(done, 'image/png'))).arrayBuffer());
  const steps = [
    (d) => d.blitImage(0, 0, W, H, pixels, 0),
    (d) => d.flip(),
    (d) => d.copyImage(0, 10, 0, 0, W, H - 10),
    (d) => d.copyImage(0, 0, 0, 7, W, H - 7),
    (d) => d.copyImage(5, 5, 9, 5, 100, 60),
    (d) => d.copyImage(20, 30, 13, 30, 90, 40),
    (d) => d.fillRect(40, 40, 30, 20, [10, 200, 30]),
    (d) => d.flip(),
    (d) => d.copyImage(40, 40, 50, 48, 30, 20),
    (d) => d.imageRect(150, 110, 2, 2, 'image/png', png),
    (d) => d.copyImage(0, 0, 1, 1, 80, 80),
    (d) => d.copyImage(2, 3, 0, 0, 120, 100),
    (d) => d.flip(),
  ];
  for (const step of steps) {
    step(plain.display);
    step(hooked.display);
  }
  await Promise.all([plain.display.flush(), hooked.display.flush()]);
  const a = read(plain.canvas);
  const b = read(hooked.canvas);
  let differing = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
  const moved = a.some((v, i) => v !== pixels[i]);
  return { hookedOk, differing, bytes: a.length, moved };
}
`;

/** Serves a blank page, noVNC's own modules and the hooks compiled to JavaScript, on loopback. */
async function serveModules(): Promise<{ server: Server; url: string }> {
  const hooks = ts.transpileModule(readFileSync(HOOKS_SOURCE, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    if (path === '/check.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(CHECK);
    if (path === '/hooks.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(hooks);
    const file = normalize(join(NOVNC_DIR, path.replace(/^\/novnc\//, '')));
    if (!path.startsWith('/novnc/') || !file.startsWith(NOVNC_DIR) || extname(file) !== '.js') return void res.writeHead(404).end();
    try {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe("noVNC's canvas copies through the screen's hook", () => {
  let browser: Browser;
  let site: { server: Server; url: string };

  before(async () => {
    site = await serveModules();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    site?.server.close();
  });

  test('the hooked display shows exactly what noVNC draws, for overlapping copies in every direction and copies behind queued drawing', async () => {
    const page = await browser.newPage();
    const errors = recordPageErrors(page);
    await page.goto(site.url);
    const result = await page.evaluate<{ hookedOk: boolean; differing: number; bytes: number; moved: boolean }>('import("/check.js").then((m) => m.run())');
    assert.equal(result.hookedOk, true, 'noVNC 1.7 has what the hook needs');
    assert.equal(result.bytes, W * H * 4);
    assert.equal(result.moved, true, 'the copies changed the picture');
    assert.equal(result.differing, 0, 'the hooked display shows the same pixels');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
