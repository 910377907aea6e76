/** Terminal page: an SSH session to the build VM in xterm.js, through the gateway's WebSocket. */
import '@xterm/xterm/css/xterm.css';
import '../styles/app.css';
import '../styles/terminal.css';
import type { Terminal } from '@xterm/xterm';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { wireClipboard } from '../terminal/clipboard.js';
import { TerminalConnection } from '../terminal/connection.js';
import { createTerminal } from '../terminal/create-terminal.js';
import { requireElement } from '../terminal/dom.js';
import { wireSearch } from '../terminal/search.js';
import { StatusBar, describeDisconnect, windowHasClosed } from '../terminal/status.js';
import { pageTitle } from '../terminal/title.js';

/** Long enough to read a sentence; it is a hint, the shortcut keeps working without it. */
const HINT_VISIBLE_MS = 8000;
const PASTE_BLOCKED_HINT = 'The browser did not allow reading the clipboard. Paste with Ctrl+Shift+V (⌘V on a Mac).';

// Before anything creates a <style>: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

const host = requireElement('terminal', HTMLElement);
const buildId = host.dataset['buildId'] ?? '';
const buildLabel = host.dataset['buildLabel'] || `Build ${buildId}`;
const pageOwnTitle = document.title;
const status = StatusBar.fromPage('host-key');
const { term, search: searchAddon } = createTerminal(host);
const search = wireSearch(term, searchAddon);
const clipboardKeys = wireClipboard(term, host, () => status.offerBanner('info', PASTE_BLOCKED_HINT, HINT_VISIBLE_MS));
// One handler decides for all shortcuts; returning false keeps the key from reaching the VM.
term.attachCustomKeyEventHandler((ev) => !(clipboardKeys(ev) || search.handleKey(ev)));

term.onTitleChange((title) => {
  document.title = pageTitle(title, buildLabel) ?? pageOwnTitle;
});

const connection = new TerminalConnection(
  buildId,
  {
    write: (bytes, parsed) => term.write(bytes, parsed),
    size: () => ({ cols: term.cols, rows: term.rows }),
  },
  {
    state: (state) => status.setState(state),
    opened: (reconnect) => {
      if (reconnect) term.write(newSessionPreamble(term));
    },
    ready: (hostKey) => {
      status.setDetail(hostKey);
      if (!search.isOpen()) term.focus();
    },
    window: (remainingMs) => status.setWindow(remainingMs),
    serverError: (_code, message) => status.showBanner('error', message),
    disconnected: (why) => {
      // The closed-window state says it all and is final: no Reconnect, no close code wording.
      if (windowHasClosed(why)) {
        status.closeWindow();
        return;
      }
      const notice = describeDisconnect(why);
      const signIn = notice.signIn ? { href: `/login?next=${encodeURIComponent(window.location.pathname)}`, label: 'Sign in again' } : undefined;
      status.showBanner(notice.kind, notice.text, signIn);
      status.showReconnect(notice.reconnect);
    },
  },
);

term.onData((data) => connection.sendInput(data));
term.onBinary((data) => connection.sendBinary(data));
term.onResize(({ cols, rows }) => connection.resize(cols, rows));

status.onReconnect(() => {
  status.showReconnect(false);
  status.clearBanner();
  status.setDetail('');
  connection.connect();
});

if (buildId) {
  connection.connect();
} else {
  status.setState('disconnected');
  status.showBanner('error', 'This page does not say which build to connect to.');
}
term.focus();

/**
 * Written before a new session's output. A full-screen program of the lost session (vim, less,
 * tmux) may have left the alternate screen, mouse reports or bracketed paste on; the new shell
 * would inherit them and misbehave.
 */
function newSessionPreamble(t: Terminal): string {
  // Leaving the alternate screen restores the saved cursor, so only when actually on it.
  const leaveAltScreen = t.buffer.active.type === 'alternate' ? '\x1b[?1049l' : '';
  const softReset = '\x1b[!p';
  const mouseAndPasteOff = '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1004l\x1b[?1006l\x1b[?2004l\x1b[?25h';
  const dimMark = '\r\n\x1b[2m— reconnected —\x1b[22m\r\n';
  return leaveAltScreen + softReset + mouseAndPasteOff + dimMark;
}
