/**
 * The screen page, full-window and embedded. The browser script (client/src/screen/
 * mount-screen.ts) relies on the ids and data attributes here; the VM's desktop name and
 * clipboard are only ever set as text.
 */
import type { BuildRecord } from '../../store/store.js';
import type { PageAssets } from '../assets.js';
import { html, type Html } from './html.js';
import { documentHead } from './layout.js';
import { sessionWindowActions } from './terminal-page.js';

export interface ScreenPageOptions {
  readonly assets: PageAssets;
  readonly nonce: string;
  readonly build: BuildRecord;
  readonly appName: string;
  readonly now: Date;
  /** Whose page it is: their remembered settings (documentHead). */
  readonly userId: string;
}

export function screenPage(o: ScreenPageOptions): Html {
  const label = `Build ${o.build.id}`;
  const remainingMs = o.build.closesAt ? Math.max(0, o.build.closesAt.getTime() - o.now.getTime()) : null;
  return html`<!doctype html>
<html lang="en">
${documentHead(`Screen · ${label}`, o.assets, o.nonce, o.userId)}
<body class="screen-page">
<header class="term-bar">
  <a class="term-back" href="/builds/${o.build.id}">← ${label}</a>
  <span class="term-meta">${o.appName} · macOS</span>
  ${screenStatus(remainingMs, sessionWindowActions(o.build))}
</header>
${screenWorkspace(o.build.id, label)}
</body>
</html>`;
}

/**
 * The screen inside another site's page: no way back to Porthole's pages, and the build and its
 * window are only known once the page has exchanged its launch token.
 */
export function embedScreenPage(o: { readonly assets: PageAssets; readonly nonce: string }): Html {
  return html`<!doctype html>
<html lang="en">
${documentHead('Screen', o.assets, o.nonce)}
<body class="screen-page embed-page">
<header class="term-bar">
  <span id="embed-label" class="term-meta">Porthole screen</span>
  ${screenStatus(null, '')}
</header>
${screenWorkspace('', '')}
</body>
</html>`;
}

function screenStatus(remainingMs: number | null, windowActions: Html | ''): Html {
  return html`<div class="term-status">
    <span id="conn-state" class="conn-state" data-state="connecting" aria-live="polite">Connecting…</span>
    <span id="desktop-name" class="host-key"></span>
    <span id="screen-resolution" class="host-key" title="The VM's screen resolution, in its own pixels" hidden></span>
    <span id="screen-watchers" class="participants" aria-live="polite" hidden></span>
    <span id="window-countdown" class="window-countdown" aria-live="polite"${remainingMs === null ? '' : html` data-remaining-ms="${remainingMs}"`}></span>
    ${windowActions}
    <button id="notify-toggle" class="button button-small" type="button" aria-pressed="false" title="A browser notification when the access window is about to close" hidden>Notify me</button>
    <button id="reconnect" class="button button-small" type="button" hidden>Reconnect</button>
  </div>`;
}

function screenWorkspace(buildId: string, label: string): Html {
  return html`<div class="screen-toolbar" role="toolbar" aria-label="Screen controls">
  <select id="quality" aria-label="Quality" title="Sharper pictures or fewer bytes. Auto follows the link: sharper while it has room, fewer bytes when the screen lags"><option value="auto">Quality: Auto</option><option value="sharp">Quality: Sharp</option><option value="balanced">Quality: Balanced</option><option value="fast">Quality: Fast</option><option value="smallest">Quality: Smallest</option></select>
  <select id="view-mode" aria-label="View" title="Fit the desktop to the window, or show one VM pixel per screen pixel: sharp on Retina and HiDPI displays, scrolling when larger"><option value="fit">View: Fit to window</option><option value="pixels">View: 1:1 pixels</option></select>
  <button id="view-only-toggle" type="button" class="button button-small" aria-pressed="false">View only</button>
  <button id="dot-cursor-toggle" type="button" class="button button-small" aria-pressed="false">Show dot cursor</button>
  <button id="ctrl-alt-del" type="button" class="button button-small">Ctrl-Alt-Del</button>
  <select id="special-keys" aria-label="Send keys"><option value="">Send keys…</option><option value="cmd-q">⌘Q</option><option value="cmd-tab">⌘Tab</option><option value="cmd-space">⌘Space</option><option value="cmd-c">⌘C</option><option value="cmd-v">⌘V</option><option value="esc">Esc</option></select>
  <button id="cmd-ctrl-toggle" type="button" class="button button-small" aria-pressed="false" title="For Windows and Linux keyboards: Ctrl reaches the Mac as ⌘ (Ctrl+C copies) and the Windows key as Ctrl">Cmd ↔ Ctrl</button>
  <button id="keybar-toggle" type="button" class="button button-small" aria-pressed="true" aria-controls="screen-keys" title="Show or hide the keys a phone or tablet lacks" hidden>Key bar</button>
  <button id="clipboard-toggle" type="button" class="button button-small" aria-expanded="false" aria-controls="clipboard-panel">Clipboard</button>
  <button id="fullscreen" type="button" class="button button-small">Full screen</button>
  <span id="screen-link" class="screen-link" aria-live="off" title="Frames per second and bytes per second this page receives, and the round trip to the gateway: a slow link shows few bytes and a long round trip, a stuck VM no frames" hidden></span>
</div>
<div id="screen-keys" class="screen-keys" role="toolbar" aria-label="Keys for the VM" hidden>
  <button type="button" class="button screen-key" data-modifier="ctrl" aria-pressed="false" title="Held for the next key">Ctrl</button>
  <button type="button" class="button screen-key" data-modifier="alt" aria-pressed="false" title="Held for the next key (⌥ on the Mac)">Alt</button>
  <button type="button" class="button screen-key" data-modifier="cmd" aria-pressed="false" aria-label="⌘ Command" title="Held for the next key">⌘</button>
  <button type="button" class="button screen-key" data-key="tab">Tab</button>
  <button type="button" class="button screen-key" data-key="esc">Esc</button>
  <button id="show-keyboard" type="button" class="button screen-key screen-key-wide" aria-pressed="false">Show keyboard</button>
</div>
<div id="term-banner" class="term-banner" role="status" hidden></div>
<aside id="clipboard-panel" class="clipboard-panel" hidden><label for="clipboard-text">Clipboard</label><textarea id="clipboard-text" rows="5"></textarea><button id="clipboard-send" type="button" class="button button-small">Send to VM</button><p class="muted small">Text copied on the VM appears here.</p></aside>
<textarea id="screen-keyboard-input" class="screen-keyboard-input" aria-label="Typing to the VM" tabindex="-1" autocapitalize="off" autocomplete="off" autocorrect="off" spellcheck="false"></textarea>
<main id="screen" class="screen-host" data-build-id="${buildId}" data-build-label="${label}"></main>`;
}
