/**
 * An unpacked Chromium extension that lets the bench drive the real terminal page without
 * DevTools and without changing the product: its content script signs in through the login form,
 * then, on the terminal page, takes commands from the bench's page hub (bench/lib/direct-chromium.ts).
 *
 * Why an extension and not the embed SDK in a wrapper page: the embed page is cross-origin to any
 * page the bench could serve, and what it tells its parent (porthole:ready/connected/window/closed)
 * says nothing about output being displayed; its title, which the shell's OSC sets, stays inside
 * the frame, and a parent cannot type into it. A content script sees the page's DOM (the <title>
 * the page sets from the VM's OSC title, xterm.js's textarea) as the page itself does.
 *
 * Typing: the script dispatches an `input` event (insertText) on xterm.js's textarea, which xterm.js
 * turns into the same onData the keyboard does; the stamp is taken just before it, where the
 * Playwright row stamps the keydown. One such event carries a whole line; script-made key events
 * would take one per character and xterm.js reads their legacy keyCode, which is emulation the
 * bench does not need.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageServeScript, signInScript, TITLE_PROBE } from './direct-chromium.js';

/** Writes the extension to a new temp dir and returns it. */
export function writePageProbeExtension(o: { gatewayOrigin: string; hubOrigin: string; terminalPath: string; credentials: { email: string; password: string } }): string {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-extension-'));
  const gatewayHost = new URL(o.gatewayOrigin).hostname;
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifest_version: 3,
      name: 'porthole bench probe',
      version: '1',
      content_scripts: [{ matches: [`http://${gatewayHost}/*`], js: ['probe.js'], run_at: 'document_start' }],
    }),
  );
  writeFileSync(join(dir, 'probe.js'), probeScript(o));
  return dir;
}

function probeScript(o: { gatewayOrigin: string; hubOrigin: string; terminalPath: string; credentials: { email: string; password: string } }): string {
  return `
${TITLE_PROBE}
${pageServeScript(o.hubOrigin)}
${signInScript(o.credentials)}
function textarea() {
  return document.querySelector('#terminal .xterm-helper-textarea');
}
function typeText(text) {
  const area = textarea();
  const t0 = performance.now();
  area.dispatchEvent(new InputEvent('input', { data: text, inputType: 'insertText', bubbles: true }));
  return t0;
}
function connected() {
  const state = document.getElementById('conn-state');
  return new Promise((resolve) => {
    const check = () => {
      if (state.dataset.state === 'connected' && textarea()) {
        observer.disconnect();
        resolve(true);
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { attributes: true, childList: true, subtree: true });
    check();
  });
}
const handlers = {
  connected,
  layout: () => {
    const host = document.getElementById('terminal');
    const rect = host.getBoundingClientRect();
    return { width: rect.width, height: rect.height, renderer: host.querySelector('canvas') ? 'webgl' : 'dom', viewport: innerWidth + '×' + innerHeight };
  },
  // Types a line and answers when a title matching \`title\` is shown: milliseconds from the typing.
  type: async (c) => {
    const t0 = typeText(c.text);
    const shown = await waitTitle(c.title, t0);
    return shown.shownAt - t0;
  },
  send: (c) => {
    typeText(c.text);
    return true;
  },
};
if (location.origin === ${JSON.stringify(o.gatewayOrigin)}) {
  document.addEventListener('DOMContentLoaded', () => {
    if (location.pathname === '/login') {
      signIn();
    } else if (location.pathname === ${JSON.stringify(o.terminalPath)}) {
      watchTitle();
      serve('page', handlers);
    }
  });
}
`;
}
