/**
 * The page side of the screen-over-WAN case (issue #19): an unpacked extension whose content script
 * signs in through the login form and then, on the real screen page or on the peer's noVNC page,
 * watches the canvas noVNC draws on and answers the bench over its page hub (direct-chromium.ts;
 * page-probe-extension.ts says why an extension, and no DevTools).
 *
 * Once per animation frame it reads the marker's pixel and a few full-width rows of the canvas
 * (getImageData: the content script's isolated world shares the page's canvas). A marker turning
 * light or dark is stamped with that frame's time (epoch ms, this machine's clock, as the bench's);
 * a frame whose rows differ from the frame before counts as a frame shown. On the product page it
 * also keeps the link readout's texts (FramebufferUpdates/s and bytes/s the page counted).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageServeScript, signInScript } from './direct-chromium.js';

export interface ScreenProbeOptions {
  readonly credentials: { readonly email: string; readonly password: string };
  /** The product's screen page path, and the peer page's. */
  readonly screenPath: string;
  readonly peerPath: string;
  readonly hubOrigin: string;
}

/** Writes the extension to a new temp dir and returns it. */
export function writeScreenProbeExtension(o: ScreenProbeOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-screen-extension-'));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifest_version: 3,
      name: 'porthole bench screen probe',
      version: '1',
      content_scripts: [{ matches: ['http://127.0.0.1/*'], js: ['probe.js'], run_at: 'document_start' }],
    }),
  );
  writeFileSync(join(dir, 'probe.js'), probeScript(o));
  return dir;
}

/** What `counters` answers: totals since the sampler started, and readout texts since the last call. */
export interface ProbeCounters {
  readonly framesChanged: number;
  readonly at: number;
  readonly readouts: readonly string[];
}

function probeScript(o: ScreenProbeOptions): string {
  return `
${pageServeScript(o.hubOrigin)}
${signInScript(o.credentials)}
const now = () => performance.timeOrigin + performance.now();
let sampler = null;
const readouts = [];
function screenCanvas(width, height) {
  return [...document.querySelectorAll('canvas')].find((c) => c.width === width && c.height === height) || null;
}
function isConnected() {
  const state = document.getElementById('conn-state');
  return state ? state.dataset.state === 'connected' : document.body.dataset.state === 'connected';
}
function untilFrame(check) {
  return new Promise((resolve) => {
    const tick = () => {
      const value = check();
      if (value) resolve(value);
      else requestAnimationFrame(tick);
    };
    tick();
  });
}
function startSampler(canvas, c) {
  const ctx = canvas.getContext('2d');
  const s = { changed: 0, hash: null, light: null, lightSince: 0, waiters: new Set() };
  const loop = () => {
    const t = now();
    let hash = 0;
    for (const y of c.rows) {
      const row = new Uint32Array(ctx.getImageData(0, y, canvas.width, 1).data.buffer);
      for (let i = 0; i < row.length; i++) hash = (Math.imul(hash, 31) + row[i]) | 0;
    }
    if (s.hash !== null && hash !== s.hash) s.changed += 1;
    s.hash = hash;
    const p = ctx.getImageData(c.marker.x, c.marker.y, 1, 1).data;
    // Light or dark by luma, so JPEG's approximations of white and black still read right. A pixel
    // noVNC has not drawn yet is transparent: not read as dark, or a first update that already
    // carries a flip to dark would show no change, and that flip would never be seen.
    const light = p[3] === 0 ? s.light : p[0] * 0.299 + p[1] * 0.587 + p[2] * 0.114 > 128;
    if (light !== s.light) {
      s.light = light;
      s.lightSince = t;
      for (const waiter of [...s.waiters]) waiter();
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  return s;
}
const handlers = {
  // Waits for the viewer to be connected and its canvas to have the VM's size, then samples it.
  connected: async (c) => {
    const canvas = await untilFrame(() => isConnected() && screenCanvas(c.width, c.height));
    sampler = startSampler(canvas, c);
    const link = document.getElementById('screen-link');
    if (link) new MutationObserver(() => readouts.push(link.textContent)).observe(link, { childList: true, characterData: true, subtree: true });
    const quality = document.getElementById('quality');
    return { qualities: quality ? [...quality.options].map((option) => option.value) : [] };
  },
  // Picks a Quality: the page sends SetEncodings with its levels.
  quality: (c) => {
    const select = document.getElementById('quality');
    select.value = c.value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    return select.value;
  },
  // When the marker was first seen light (or dark) after \`after\` (epoch ms), or null after timeoutMs.
  marker: (c) =>
    new Promise((resolve) => {
      const check = () => {
        if (sampler.light !== c.light || sampler.lightSince < c.after) return;
        sampler.waiters.delete(check);
        clearTimeout(timer);
        resolve(sampler.lightSince);
      };
      const timer = setTimeout(() => {
        sampler.waiters.delete(check);
        resolve(null);
      }, c.timeoutMs);
      sampler.waiters.add(check);
      check();
    }),
  counters: () => ({ framesChanged: sampler.changed, at: now(), readouts: readouts.splice(0) }),
};
document.addEventListener('DOMContentLoaded', () => {
  if (location.pathname === '/login') {
    signIn();
  } else if (location.pathname === ${JSON.stringify(o.screenPath)} || location.pathname === ${JSON.stringify(o.peerPath)}) {
    serve('page', handlers);
  }
});
`;
}
