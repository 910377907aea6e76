/**
 * The terminal page, full-window and embedded. The browser script (client/src/terminal/
 * mount-terminal.ts) relies on the ids and data attributes here; the VM's output never passes
 * through this markup.
 */
import type { BuildRecord } from '../../store/store.js';
import type { PageAssets } from '../assets.js';
import { html, type Html } from './html.js';
import { documentHead } from './layout.js';

export interface TerminalPageOptions {
  readonly assets: PageAssets;
  readonly nonce: string;
  readonly build: BuildRecord;
  readonly appName: string;
  /** Whose page it is: their remembered settings (documentHead). */
  readonly userId: string;
}

export function terminalPage(o: TerminalPageOptions): Html {
  const label = `Build ${o.build.id}`;
  return html`<!doctype html>
<html lang="en">
${documentHead(`Terminal · ${label}`, o.assets, o.nonce, o.userId)}
<body class="terminal-page">
<header class="term-bar">
  <a class="term-back" href="/builds/${o.build.id}">← ${label}</a>
  <span class="term-meta">${o.appName} · ${o.build.stack === 'macos' ? 'macOS' : 'Linux'}</span>
  ${terminalStatus(sessionWindowActions(o.build))}
</header>
${terminalWorkspace(o.build.id, label)}
</body>
</html>`;
}

/**
 * The terminal inside another site's page: no way back to Porthole's pages, and the build is only
 * known once the page has exchanged its launch token, so the script fills in the label.
 */
export function embedTerminalPage(o: { readonly assets: PageAssets; readonly nonce: string }): Html {
  return html`<!doctype html>
<html lang="en">
${documentHead('Terminal', o.assets, o.nonce)}
<body class="terminal-page embed-page">
<header class="term-bar">
  <span id="embed-label" class="term-meta">Porthole terminal</span>
  ${terminalStatus('')}
</header>
${terminalWorkspace('', '')}
</body>
</html>`;
}

/**
 * The Files button and panel (issue #17) stay hidden until client/src/files/ fills them in: an
 * embedded watch view has none. The Settings panel and the touch key bar are filled in by
 * client/src/terminal/ (settings-menu.ts, key-bar.ts); Keys stays hidden without a touch screen.
 */
/**
 * Extend and release (issue #20) next to the countdown, on the signed-in terminal and screen pages
 * (an embedded page's credential is the dashboard's, not a user's click). Extend shows in the last
 * step, as client/src/session/window-actions-bar.ts judges from the window the gateway sends.
 */
export function sessionWindowActions(build: BuildRecord): Html {
  const step = build.extensions?.stepMinutes;
  const extend = step === undefined ? '' : html`<button id="window-extend" class="button button-small" type="button" data-extend data-step-minutes="${step}" hidden>Extend ${step} min</button>`;
  return html`${extend}<button id="window-release" class="button button-small" type="button" data-release title="Close the access window now, for everyone, so the VM can be torn down">I'm done — release the VM</button><span class="window-actions-status" data-window-actions-status role="status" hidden></span>`;
}

function terminalStatus(windowActions: Html | ''): Html {
  return html`<div class="term-status">
    <span id="conn-state" class="conn-state" data-state="connecting" aria-live="polite">Connecting…</span>
    <span id="host-key" class="host-key mono" title="SSH host key fingerprint of the build VM"></span>
    <span id="participants" class="participants" aria-live="polite" hidden></span>
    <span id="pairing" class="pairing" hidden></span>
    <span id="window-countdown" class="window-countdown" aria-live="polite"></span>
    ${windowActions}
    <button id="notify-toggle" class="button button-small" type="button" aria-pressed="false" title="A browser notification when the access window is about to close" hidden>Notify me</button>
    <span id="recording-badge" class="badge recording-badge" title="The gateway records this terminal session for the members of this app to replay" hidden>● Recording</span>
    <button id="files-toggle" class="button button-small" type="button" aria-controls="files-panel" aria-expanded="false" title="Download files from the VM and upload files to it" hidden>Files</button>
    <button id="term-settings-toggle" class="button button-small" type="button" aria-expanded="false" title="Font size, theme, font and cursor of this terminal">Settings</button>
    <button id="term-keys-toggle" class="button button-small" type="button" aria-pressed="false" title="Show or hide the extra keys a touch keyboard lacks: Esc, Tab, Ctrl, Alt, arrows" hidden>Keys</button>
    <button id="screen-reader-toggle" class="button button-small" type="button" aria-pressed="false" title="Lets a screen reader read the terminal's rows and hear new output">Screen reader</button>
    <button id="term-fullscreen" class="button button-small" type="button" aria-pressed="false" title="Full screen: Ctrl+W, Ctrl+N, Ctrl+T and Esc then reach the shell (hold Esc to leave)">Full screen</button>
    <button id="disconnect" class="button button-small" type="button" title="End the shell on the VM">Disconnect</button>
    <button id="reconnect" class="button button-small" type="button" hidden>Reconnect</button>
  </div>`;
}

function terminalWorkspace(buildId: string, label: string): Html {
  return html`<div id="term-banner" class="term-banner" role="status" hidden></div>
<div id="term-search" class="term-search" hidden><input id="term-search-input" type="search" aria-label="Find in terminal" placeholder="Find"><button id="term-search-prev" type="button" class="button button-small" aria-label="Previous match">↑</button><button id="term-search-next" type="button" class="button button-small" aria-label="Next match">↓</button><button id="term-search-close" type="button" class="button button-small" aria-label="Close search">✕</button></div>
<div class="term-workspace">
<main id="terminal" class="terminal-host" data-build-id="${buildId}" data-build-label="${label}"></main>
<aside id="files-panel" class="files-panel" aria-label="Files" hidden></aside>
</div>
<div id="term-keybar" class="term-keybar" role="group" aria-label="Extra keys" hidden></div>`;
}
