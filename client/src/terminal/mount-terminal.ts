/**
 * The terminal of the terminal page and the embed terminal: xterm.js, its keys and search, the
 * status bar, and one session at a time over the gateway's WebSocket. The page decides where
 * tickets come from and who else hears about the session.
 */
import { browserNotifications, WindowNotifier } from '../session/window-notifier.js';
import type { Terminal } from '@xterm/xterm';
import type { TicketEndpoint } from '../lib/connection-ticket.js';
import type { MountedSession, SessionObserver } from '../lib/session-observer.js';
import { describeDisconnect } from '../session/disconnect.js';
import { describeParticipants } from '../session/participants.js';
import { PairingBar, watchLink } from './pairing-bar.js';
import { SessionMemory } from '../session/session-memory.js';
import { showDisconnect } from '../session/show-disconnect.js';
import { decideVmRetry } from '../session/vm-retry.js';
import { connectingText, PaneStatus } from '../session/pane-status.js';
import type { ConnectionState } from '../session/state.js';
import { StatusBar } from '../session/status-bar.js';
import { pageTitle } from '../session/title.js';
import { TabTitle } from '../session/tab-title.js';
import { wireClipboard } from './clipboard.js';
import { TerminalConnection } from './connection.js';
import { createTerminal } from './create-terminal.js';
import { wireSearch } from './search.js';
import { shellDirectoryOf } from './shell-directory.js';
import { wireTabFocus } from './tab-focus.js';
import { wireScreenReader } from './screen-reader.js';
import { wireFullscreen } from '../session/fullscreen.js';
import { browserStorage, type SettingsStorage } from '../lib/storage.js';
import { KeyBar } from './key-bar.js';
import { parseEmbedSettings, resolveSettings, type TerminalSettings } from './settings.js';
import { wireSettingsMenu } from './settings-menu.js';
import { rememberSettings, rememberedSettings } from './settings-store.js';
import { TerminalLook } from './terminal-look.js';

/** Long enough to read a sentence; it is a hint, the shortcut keeps working without it. */
const HINT_VISIBLE_MS = 8000;
/** A notice from the gateway (typing lost before the shell was ready) stays long enough to read twice. */
const NOTICE_SHOWN_MS = 12_000;
/** In full screen the terminal keeps these from the browser: Ctrl+W, Ctrl+N, Ctrl+T and Esc reach the shell. */
const FULLSCREEN_LOCKED_KEYS: readonly string[] = ['KeyW', 'KeyN', 'KeyT', 'Escape'];
const FULLSCREEN_REFUSED_HINT = 'The browser did not allow full screen.';
const PASTE_BLOCKED_HINT = 'The browser did not allow reading the clipboard. Paste with Ctrl+Shift+V (⌘V on a Mac).';
/** Typing while reconnecting is dropped, not queued: it would reach the shell late, out of context. */
const TYPING_DROPPED_HINT = 'Reconnecting: what you type is not sent until the terminal is connected again.';
/**
 * Written before resumed output that starts later than what the page has: the gateway no longer
 * had the rest. CAN first ends an escape sequence the lost output may have left half-written, so
 * the notice is shown rather than swallowed.
 */
const EARLIER_OUTPUT_NOT_SHOWN = '\x18\r\n\x1b[2m[earlier output is not shown]\x1b[22m\r\n';
/** Said once per shell, dimmed, before its first output. */
const RECORDED_LINE = '\x1b[2mThis session is recorded: its output, and who typed when, can be replayed by the members of this app.\x1b[22m\r\n';
/** Where the keys now go, in the pane itself (CAN first ends a half-written escape sequence). */
const DISCONNECTED_LINE = '\x18\r\n\x1b[2mDisconnected — press Enter to reconnect.\x1b[22m\r\n';

export interface TerminalMountOptions {
  readonly host: HTMLElement;
  /** Names the session this tab keeps for a reload (session/session-memory.ts). */
  readonly buildId: string;
  readonly buildLabel: string;
  readonly tickets: TicketEndpoint;
  /** Where "Sign in again" leads after a 401; null on embed pages, which have no sign-in. */
  readonly signInHref: string | null;
  readonly observer: SessionObserver;
  /** Another member's session to watch (the page's `?watch=` link); null: this page's own shell. */
  readonly watch?: string | null;
  /** The shell reported its current folder (OSC 7); pages with a Files panel offer to go there. */
  readonly shellDirectory?: (path: string) => void;
  /**
   * Closing or leaving the page while its own shell is live asks first (`beforeunload`). The
   * full page only: an embed's parent decides about leaving, and a watcher loses nothing.
   */
  readonly confirmLeave?: boolean;
  /** Settings the page was given (an embedding dashboard's attributes): they win over the remembered ones. */
  readonly settings?: Partial<TerminalSettings>;
}

export function mountTerminal(o: TerminalMountOptions): MountedSession {
  const pageOwnTitle = document.title;
  const tabTitle = new TabTitle(pageOwnTitle);
  const status = StatusBar.fromPage('host-key', tabTitle);
  // A frame may not ask for notification permission (browsers refuse it cross-origin): full pages only.
  const notifier = new WindowNotifier({
    button: window.self === window.top ? document.getElementById('notify-toggle') as HTMLButtonElement | null : null,
    api: browserNotifications(),
    storage: browserStorage(),
    label: o.buildLabel,
  });
  status.onWindowPhase((phase) => notifier.phase(phase));
  const watching = o.watch ?? null;
  const storage = browserStorage();
  // The user's choices: remembered ones, then this page's (they hold where the browser keeps no storage, as in a third-party frame).
  let chosen = rememberedSettings(storage);
  const settings = resolveSettings(chosen, o.settings ?? {});
  const { term, search: searchAddon, refit } = createTerminal(o.host, settings, watching === null);
  const look = new TerminalLook(term, o.host, refit, settings);
  const settingsButton = document.getElementById('term-settings-toggle');
  if (settingsButton instanceof HTMLButtonElement) {
    wireSettingsMenu(settingsButton, {
      get settings() {
        return look.settings;
      },
      change: (changed) => {
        chosen = { ...chosen, ...changed };
        look.set({ ...look.settings, ...changed });
        rememberSettings(storage, changed);
      },
      focusTerminal: () => term.focus(),
    });
  }
  const pairing = new PairingBar(
    (userId, mode) => connection.setControl(userId, mode),
    (sessionId) => watchLink(o.buildId, sessionId),
  );
  const search = wireSearch(term, searchAddon);
  const clipboardKeys = wireClipboard(term, o.host, () => status.offerBanner('info', PASTE_BLOCKED_HINT, HINT_VISIBLE_MS));
  const keyBar = mountKeyBar(term, storage);
  // A watcher types only once the owner lets it (participants below).
  keyBar?.setEnabled(watching === null);
  // The banner is a live region: a screen reader hears the switch.
  const screenReaderToggle = document.getElementById('screen-reader-toggle');
  if (screenReaderToggle instanceof HTMLButtonElement) wireScreenReader(term, screenReaderToggle, storage);
  const fullscreenButton = document.getElementById('term-fullscreen');
  if (fullscreenButton instanceof HTMLButtonElement) {
    wireFullscreen(fullscreenButton, () => status.offerBanner('info', FULLSCREEN_REFUSED_HINT, HINT_VISIBLE_MS), FULLSCREEN_LOCKED_KEYS, () => term.focus());
  }
  const tabFocus = wireTabFocus((message) => status.offerBanner('info', message, HINT_VISIBLE_MS));
  // A dead terminal (a final close) offers Enter to start again, where Reconnect is offered.
  const reconnectKey = (ev: KeyboardEvent): boolean => {
    if (state !== 'disconnected' || ev.key !== 'Enter' || ev.ctrlKey || ev.altKey || ev.metaKey || ev.shiftKey) return false;
    if (ev.type === 'keydown') status.pressReconnect();
    return true;
  };
  // One handler decides for all shortcuts; returning false keeps the key from reaching the VM.
  term.attachCustomKeyEventHandler((ev) => !(tabFocus.handleKey(ev) || reconnectKey(ev) || clipboardKeys(ev) || search.handleKey(ev)));

  const shellDirectory = o.shellDirectory;
  if (shellDirectory) {
    term.parser.registerOscHandler(7, (data) => {
      const path = shellDirectoryOf(data);
      if (path !== null) shellDirectory(path);
      return true;
    });
  }

  term.onTitleChange((title) => {
    tabTitle.setBase(pageTitle(title, o.buildLabel) ?? pageOwnTitle);
  });

  // Ends the session for good (1000), where a closed tab or a lost network only detaches it.
  const disconnectButton = document.getElementById('disconnect');
  if (watching !== null && disconnectButton) {
    disconnectButton.textContent = 'Stop watching';
    disconnectButton.title = 'Leave this session; it goes on for its owner';
  }
  disconnectButton?.addEventListener('click', () => connection.disconnect());
  let state: ConnectionState = 'connecting';
  const paneStatus = new PaneStatus(o.host.parentElement ?? o.host);
  /** Automatic tries at a VM that could not be reached, since the last shell (session/vm-retry.ts). */
  let vmTries = 0;
  let vmRetryTimer: number | undefined;
  let retryingByItself = false;
  const connection = new TerminalConnection(
    o.tickets,
    {
      write: (bytes, parsed) => term.write(bytes, parsed),
      size: () => ({ cols: term.cols, rows: term.rows }),
    },
    {
      state: (next) => {
        state = next;
        if (next === 'connected' || next === 'disconnected') paneStatus.hide();
        status.setState(next);
        if (disconnectButton) disconnectButton.hidden = next === 'disconnected';
        // A dead terminal looks dead: dimmed, its cursor still, Tab free to leave it.
        const dead = next === 'disconnected';
        o.host.classList.toggle('is-disconnected', dead);
        look.setDead(dead);
        tabFocus.setShellGone(dead);
      },
      started: (afterAnother) => {
        // A watching page is sent the held output from its oldest byte on every join: start clean.
        if (watching !== null) term.reset();
        else if (afterAnother) term.write(newSessionPreamble(term));
      },
      progress: (step) => paneStatus.show(connectingText(step, state === 'reconnecting', 'the gateway is logging in to the build VM')),
      ptySize: (cols, rows) => term.resize(cols, rows),
      ready: (hostKey, sessionId, recorded) => {
        vmTries = 0;
        status.setDetail(hostKey);
        // Disclosed where the user looks (issue #21): a badge that stays, and a line in the pane.
        showRecordingBadge(recorded);
        if (recorded) term.write(RECORDED_LINE);
        if (watching === null) pairing.offerInvite(sessionId);
        if (!search.isOpen()) term.focus();
        o.observer.connected();
      },
      // The same shell goes on: its modes (vim's alternate screen) are still right, so no preamble.
      resumed: (gap, hostKey, recorded) => {
        showRecordingBadge(recorded);
        // The hint about typing while reconnecting no longer holds.
        status.clearBanner();
        if (gap) term.write(EARLIER_OUTPUT_NOT_SHOWN);
        status.setDetail(hostKey);
        o.observer.connected();
      },
      window: (remainingMs, closesAt) => {
        status.setWindow(remainingMs);
        o.observer.window(closesAt);
      },
      serverError: (_code, message) => status.showBanner('error', message),
      notice: (_code, message) => status.offerBanner('urgent', message, NOTICE_SHOWN_MS),
      participants: (list) => {
        status.setParticipants(describeParticipants(list));
        pairing.show(list);
        if (watching !== null) keyBar?.setEnabled(list.some((p) => p.you && p.mode === 'drive'));
      },
      disconnected: (why) => {
        o.observer.ended(why);
        showDisconnect(status, why, (ended) => describeDisconnect(ended, 'terminal'), o.signInHref);
        const retry = decideVmRetry(why, vmTries);
        if (retry !== null && status.canReconnect()) {
          vmTries += 1;
          status.showBanner('error', retry.text);
          vmRetryTimer = window.setTimeout(() => {
            retryingByItself = true;
            status.pressReconnect();
          }, retry.inMs);
        }
        if (status.canReconnect()) term.write(DISCONNECTED_LINE);
      },
    },
    SessionMemory.forTab('ssh', o.buildId),
    watching,
  );

  const typed = (sent: boolean): void => {
    if (!sent && state === 'reconnecting') status.offerBanner('info', TYPING_DROPPED_HINT, HINT_VISIBLE_MS);
  };
  if (o.confirmLeave && watching === null) {
    window.addEventListener('beforeunload', (event) => {
      // A held session survives a reload, but a closed tab is the shell's end within the hold.
      if (state !== 'connected' && state !== 'reconnecting') return;
      event.preventDefault();
      // Chromium before 119 asks only when returnValue is set.
      event.returnValue = '';
    });
  }

  term.onData((data) => typed(connection.sendInput(keyBar ? keyBar.modify(data) : data)));
  term.onBinary((data) => typed(connection.sendBinary(data)));
  term.onResize(({ cols, rows }) => connection.resize(cols, rows));

  status.onReconnect(() => {
    window.clearTimeout(vmRetryTimer);
    // The user asking again starts a new round of automatic tries.
    if (!retryingByItself) vmTries = 0;
    retryingByItself = false;
    status.showReconnect(false);
    status.clearBanner();
    status.setDetail('');
    connection.connect();
  });

  connection.connect();
  term.focus();
  return {
    focus: () => term.focus(),
    disconnect: () => connection.disconnect(),
    // Live, as at load: the dashboard's values win over the remembered ones; a removed attribute gives the user's choice back.
    settings: (named) => look.set(resolveSettings(chosen, parseEmbedSettings(new URLSearchParams(named)))),
  };
}

/** The touch key bar, where the page has a place for it. */
function mountKeyBar(term: Terminal, storage: SettingsStorage | null): KeyBar | null {
  const host = document.getElementById('term-keybar');
  const toggle = document.getElementById('term-keys-toggle');
  if (!host) return null;
  return new KeyBar(host, toggle instanceof HTMLButtonElement ? toggle : null, storage, {
    send: (bytes) => term.input(bytes, true),
    applicationCursor: () => term.modes.applicationCursorKeysMode,
  });
}

function showRecordingBadge(recorded: boolean): void {
  const badge = document.getElementById('recording-badge');
  if (badge) badge.hidden = !recorded;
}

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
