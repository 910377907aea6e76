/** Screen page: the build VM's desktop in noVNC, through the gateway's WebSocket. */
import '../styles/app.css';
import '../styles/terminal.css';
import '../styles/screen.css';
import type RFB from '@novnc/novnc';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { pollWindow } from '../lib/window-poll.js';
import type { ConnectionState } from '../terminal/connection.js';
import { requireElement } from '../terminal/dom.js';
import { cleanVmTitle, pageTitle } from '../terminal/title.js';
import { ScreenConnection, describeScreenDisconnect } from '../screen/connection.js';
import { wireClipboardPanel, wireFullscreen, wireToggle } from '../screen/controls.js';
import { sendCombo } from '../screen/keys.js';
import { StatusBar, windowHasClosed } from '../terminal/status.js';

/** Long enough to read a sentence; it is a hint, not a state. */
const HINT_VISIBLE_MS = 6000;
/** Same as terminal.css's --term-bg: noVNC paints the area around the desktop itself. */
const SCREEN_BACKGROUND = '#0b0f14';
const VIEW_ONLY_TITLE = 'Stops this tab sending keyboard, mouse and clipboard input to the VM. The screen keeps updating.';
const CLIPBOARD_SENT_HINT = 'Sent to the VM’s clipboard. Paste it there with ⌘V.';
const FULLSCREEN_REFUSED_HINT = 'The browser did not allow full screen.';

// Before noVNC creates anything: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

const host = requireElement('screen', HTMLElement);
const buildId = host.dataset['buildId'] ?? '';
const buildLabel = host.dataset['buildLabel'] || `Build ${buildId}`;
const pageOwnTitle = document.title;
const status = StatusBar.fromPage('desktop-name');
const countdown = requireElement('window-countdown', HTMLElement);
const ctrlAltDel = requireElement('ctrl-alt-del', HTMLButtonElement);
const specialKeys = requireElement('special-keys', HTMLSelectElement);
const viewOnlyToggle = requireElement('view-only-toggle', HTMLButtonElement);

let state: ConnectionState = 'connecting';

const scaled = wireToggle(requireElement('scale-toggle', HTMLButtonElement), () => withViewer(applyViewport));
const viewOnly = wireToggle(viewOnlyToggle, (on) => {
  withViewer((rfb) => {
    rfb.viewOnly = on;
  });
  updateInputControls();
});
viewOnlyToggle.title = VIEW_ONLY_TITLE;
const dotCursor = wireToggle(requireElement('dot-cursor-toggle', HTMLButtonElement), (on) =>
  withViewer((rfb) => {
    rfb.showDotCursor = on;
  }),
);

const clipboard = wireClipboardPanel(
  {
    toggle: requireElement('clipboard-toggle', HTMLButtonElement),
    panel: requireElement('clipboard-panel', HTMLElement),
    text: requireElement('clipboard-text', HTMLTextAreaElement),
    send: requireElement('clipboard-send', HTMLButtonElement),
  },
  (text) =>
    withInput((rfb) => {
      rfb.clipboardPasteFrom(text);
      status.offerBanner('info', CLIPBOARD_SENT_HINT, HINT_VISIBLE_MS);
    }),
);

wireFullscreen(requireElement('fullscreen', HTMLButtonElement), () => status.offerBanner('info', FULLSCREEN_REFUSED_HINT, HINT_VISIBLE_MS));

ctrlAltDel.addEventListener('click', () => withInput((rfb) => rfb.sendCtrlAltDel()));
specialKeys.addEventListener('change', () => {
  const combo = specialKeys.value;
  // Back to the prompt, so the same combination can be chosen twice in a row.
  specialKeys.value = '';
  if (combo) withInput((rfb) => sendCombo(rfb, combo));
});

const connection = new ScreenConnection(buildId, host, {
  state: (next) => {
    state = next;
    status.setState(next);
    updateInputControls();
  },
  created: (rfb) => {
    rfb.background = SCREEN_BACKGROUND;
    rfb.viewOnly = viewOnly();
    rfb.showDotCursor = dotCursor();
    applyViewport(rfb);
  },
  connected: (rfb) => {
    if (!clipboard.hasFocus()) rfb.focus({ preventScroll: true });
  },
  desktopName: (name) => {
    status.setDetail(cleanVmTitle(name));
    document.title = pageTitle(name, buildLabel) ?? pageOwnTitle;
  },
  clipboard: (text) => clipboard.receive(text),
  disconnected: (why) => {
    // The closed-window state says it all and is final: no Reconnect, no close code wording.
    if (windowHasClosed(why)) {
      status.closeWindow();
      return;
    }
    const notice = describeScreenDisconnect(why);
    const signIn = notice.signIn ? { href: `/login?next=${encodeURIComponent(window.location.pathname)}`, label: 'Sign in again' } : undefined;
    status.showBanner(notice.kind, notice.text, signIn);
    status.showReconnect(notice.reconnect);
  },
});

status.onReconnect(() => {
  status.showReconnect(false);
  status.clearBanner();
  status.setDetail('');
  document.title = pageOwnTitle;
  connection.connect();
});

status.setWindow(initialRemainingMs());
updateInputControls();
if (buildId) {
  connection.connect();
  if (!status.windowClosed) {
    // The RFB stream cannot carry the gateway's window messages, so the page asks for them.
    const poll = pollWindow(buildId, (view) => {
      if (view.open) status.setWindow(view.remainingMs);
      else status.closeWindow();
    });
    status.onWindowClosed(() => poll.stop());
  }
} else {
  status.setState('disconnected');
  status.showBanner('error', 'This page does not say which build to connect to.');
}

/**
 * Scaled, the whole desktop fits the window. Unscaled it is shown 1:1 and the browser's
 * scrollbars pan it: clipping would instead pan by dragging, which then never reaches the VM.
 */
function applyViewport(rfb: RFB): void {
  rfb.clipViewport = false;
  rfb.dragViewport = false;
  rfb.scaleViewport = scaled();
}

function withViewer(use: (rfb: RFB) => void): void {
  const rfb = connection.rfb;
  if (rfb) use(rfb);
}

/** Input goes to the VM only from a live, non-view-only session; the screen gets focus back for typing on. */
function withInput(use: (rfb: RFB) => void): void {
  const rfb = connection.rfb;
  if (!rfb || state !== 'connected' || viewOnly()) return;
  use(rfb);
  rfb.focus({ preventScroll: true });
}

function updateInputControls(): void {
  const canSend = state === 'connected' && !viewOnly();
  ctrlAltDel.disabled = !canSend;
  specialKeys.disabled = !canSend;
  clipboard.setCanSend(canSend);
}

/** Server-computed; absent or empty means the window stays open while the build runs. */
function initialRemainingMs(): number | null {
  const raw = countdown.dataset['remainingMs']?.trim();
  if (!raw) return null;
  const ms = Number(raw);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}
