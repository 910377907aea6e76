/**
 * The screen of the screen page and the embed screen: noVNC, the toolbar, the status bar and the
 * window countdown, one session at a time. The page decides where tickets and window updates come
 * from and who else hears about the session.
 */
import { browserNotifications, WindowNotifier } from '../session/window-notifier.js';
import type RFB from '@novnc/novnc';
import type { TicketEndpoint } from '../lib/connection-ticket.js';
import type { MountedSession, SessionObserver } from '../lib/session-observer.js';
import { pollWindow, type WindowSource } from '../lib/window-poll.js';
import { requireElement } from '../session/dom.js';
import { showDisconnect } from '../session/show-disconnect.js';
import { connectingText, PaneStatus } from '../session/pane-status.js';
import type { ConnectionState } from '../session/state.js';
import { StatusBar } from '../session/status-bar.js';
import { cleanVmTitle, pageTitle } from '../session/title.js';
import { TabTitle } from '../session/tab-title.js';
import { ScreenConnection } from './connection.js';
import { describeScreenDisconnect } from './disconnect.js';
import { wireClipboardPanel, wireToggle } from './controls.js';
import { wireClipboardSync } from './clipboard-browser.js';
import { CLIPBOARD_HINTS, fitsClipboardMessage } from './clipboard-sync.js';
import { wireFullscreen } from '../session/fullscreen.js';
import { LastFrame } from './last-frame.js';
import { sendCombo } from './keys.js';
import { wireKeyBar } from './key-bar.js';
import { isTouchDevice } from './touch.js';
import { QualityControl } from './quality-control.js';
import { browserStorage } from '../lib/storage.js';
import { describeResolution, isViewMode, oneToOneScale, rememberViewMode, storedViewMode, type ViewMode } from './view-mode.js';
import { ModifierSwap, rememberCmdCtrlSwap, storedCmdCtrlSwap } from './modifier-swap.js';
import { hookCanvasCopies, hookDisplayScale, hookKeyboard, hookViewOnlyClipboard } from './novnc-hooks.js';
import { LinkStatus } from './link-status.js';

/** Long enough to read a sentence; it is a hint, not a state. */
const HINT_VISIBLE_MS = 6000;
/** Same as terminal.css's --term-bg: noVNC paints the area around the desktop itself. */
const SCREEN_BACKGROUND = '#0b0f14';
const VIEW_ONLY_TITLE = 'Stops this tab sending keyboard, mouse and clipboard input to the VM. The screen keeps updating.';
const VIEW_ONLY_FORCED_TITLE = 'This screen was opened view-only: the gateway drops all input.';
const WATCHING_TITLE = 'You are watching: the gateway drops your keyboard, mouse and clipboard input until the screen’s owner lets you drive.';
/** RFB cannot say whose screen it is; the page says only what it knows. */
const WATCHING_TEXT = 'Watching a teammate’s screen (view only).';
const DRIVING_TEXT = 'Watching a teammate’s screen; its owner lets you use it.';
const CLIPBOARD_SENT_HINT = 'Sent to the VM’s clipboard. Paste it there with ⌘V.';
const FULLSCREEN_REFUSED_HINT = 'The browser did not allow full screen.';

export interface ScreenMountOptions {
  readonly host: HTMLElement;
  readonly buildLabel: string;
  readonly tickets: TicketEndpoint;
  /** The screen stream cannot carry the gateway's window messages, so the page asks for them. */
  readonly windowSource: WindowSource;
  /** Server-computed when the page was made; null while the build runs. */
  readonly initialRemainingMs: number | null;
  /** Input is dropped at the gateway and the View only toggle stays on. */
  readonly viewOnlyAtGateway: boolean;
  /** Where "Sign in again" leads after a 401; null on embed pages, which have no sign-in. */
  readonly signInHref: string | null;
  readonly observer: SessionObserver;
  /** `?watch=<sessionId>`: another member's screen session to watch (issue #16); null or absent: the page's own. */
  readonly watch?: string | null;
}

/** The screen page as mounted; a watching page's input is switched on and off from outside (see allowInput). */
export interface MountedScreen extends MountedSession {
  /**
   * A watching page is told by the live-sessions API, never by RFB (which has no side channel),
   * that the owner let it drive (true) or took control back (false): noVNC then sends input again,
   * or stops. Ignored on a page that does not watch. The gateway decides either way: it drops a
   * watcher's input until the owner hands control over.
   */
  allowInput(allowed: boolean): void;
}

export function mountScreen(o: ScreenMountOptions): MountedScreen {
  const pageOwnTitle = document.title;
  const tabTitle = new TabTitle(pageOwnTitle);
  const status = StatusBar.fromPage('desktop-name', tabTitle);
  // A frame may not ask for notification permission (browsers refuse it cross-origin): full pages only.
  const notifier = new WindowNotifier({
    button: window.self === window.top ? document.getElementById('notify-toggle') as HTMLButtonElement | null : null,
    api: browserNotifications(),
    storage: browserStorage(),
    label: o.buildLabel,
  });
  status.onWindowPhase((phase) => notifier.phase(phase));
  const ctrlAltDel = requireElement('ctrl-alt-del', HTMLButtonElement);
  const specialKeys = requireElement('special-keys', HTMLSelectElement);
  const viewOnlyToggle = requireElement('view-only-toggle', HTMLButtonElement);
  const qualitySelect = requireElement('quality', HTMLSelectElement);
  const viewModeSelect = requireElement('view-mode', HTMLSelectElement);
  const cmdCtrlToggle = requireElement('cmd-ctrl-toggle', HTMLButtonElement);
  const resolution = requireElement('screen-resolution', HTMLElement);
  const linkStatus = new LinkStatus(requireElement('screen-link', HTMLElement));
  const storage = browserStorage();

  let state: ConnectionState = 'connecting';
  const lastFrame = new LastFrame(o.host);
  // In the page's grid, over the screen's cell (styles/screen.css).
  const paneStatus = new PaneStatus(o.host.parentElement ?? o.host);

  const watching = o.watch ?? null;
  let driving = false;
  // A watching page starts view-only, so noVNC sends no input at all (the gateway drops it anyway).
  if (o.viewOnlyAtGateway || watching !== null) viewOnlyToggle.setAttribute('aria-pressed', 'true');
  let viewMode: ViewMode = storedViewMode(storage);
  viewModeSelect.value = viewMode;
  const scaled = (): boolean => viewMode === 'fit';
  /** Re-applies the current viewer's scale; null while there is none, or where noVNC's cannot be set. */
  let rescale: (() => void) | null = null;
  viewModeSelect.addEventListener('change', () => {
    if (!isViewMode(viewModeSelect.value)) return;
    viewMode = viewModeSelect.value;
    rememberViewMode(storage, viewMode);
    withViewer(applyViewport);
    lastFrame.setScaled(scaled());
  });
  followDevicePixelRatio(() => rescale?.());

  // Not on a watching page: it sends no keys until handed control, and then as its owner would.
  const swap = new ModifierSwap(watching === null && storedCmdCtrlSwap(storage));
  if (swap.enabled) cmdCtrlToggle.setAttribute('aria-pressed', 'true');
  cmdCtrlToggle.hidden = watching !== null;
  wireToggle(cmdCtrlToggle, (on) => {
    swap.enabled = on;
    rememberCmdCtrlSwap(storage, on);
  });
  const viewOnly = wireToggle(viewOnlyToggle, (on) => {
    withViewer((rfb) => {
      rfb.viewOnly = on;
    });
    updateInputControls();
  });
  viewOnlyToggle.title = watching !== null ? WATCHING_TITLE : o.viewOnlyAtGateway ? VIEW_ONLY_FORCED_TITLE : VIEW_ONLY_TITLE;
  viewOnlyToggle.disabled = o.viewOnlyAtGateway || watching !== null;
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
    (text) => {
      // Past the limit the gateway would end the whole screen; the text stays in the panel.
      if (!fitsClipboardMessage(text)) {
        status.offerBanner('info', CLIPBOARD_HINTS.panelTooLarge, HINT_VISIBLE_MS);
        return;
      }
      withInput((rfb) => {
        rfb.clipboardPasteFrom(text);
        clipboardSync.sentFromPanel(text);
        status.offerBanner('info', CLIPBOARD_SENT_HINT, HINT_VISIBLE_MS);
      });
    },
  );
  // Never on a watching page, even one allowed to drive: the panel is its way.
  const clipboardSync = wireClipboardSync({
    host: o.host,
    allow: requireElement('clipboard-allow', HTMLButtonElement),
    enabled: watching === null,
    canSend: canSendInput,
    send: (text) => withViewer((rfb) => rfb.clipboardPasteFrom(text)),
    hint: (text) => status.offerBanner('info', text, HINT_VISIBLE_MS),
  });

  const keyBar = wireKeyBar(
    {
      bar: requireElement('screen-keys', HTMLElement),
      toggle: requireElement('keybar-toggle', HTMLButtonElement),
      showKeyboard: requireElement('show-keyboard', HTMLButtonElement),
      input: requireElement('screen-keyboard-input', HTMLTextAreaElement),
    },
    {
      // noVNC itself drops keys while it is not connected or is view-only.
      sendKey: (keysym, code, down) => withViewer((rfb) => rfb.sendKey(keysym, code, down)),
      setFocusOnClick: (focus) =>
        withViewer((rfb) => {
          rfb.focusOnClick = focus;
        }),
    },
    isTouchDevice(),
  );

  wireFullscreen(requireElement('fullscreen', HTMLButtonElement), () => status.offerBanner('info', FULLSCREEN_REFUSED_HINT, HINT_VISIBLE_MS));

  const quality = new QualityControl({ select: qualitySelect, storage, viewer: () => connection.rfb, now: () => performance.now() });

  ctrlAltDel.addEventListener('click', () => withInput((rfb) => rfb.sendCtrlAltDel()));
  specialKeys.addEventListener('change', () => {
    const combo = specialKeys.value;
    // Back to the prompt, so the same combination can be chosen twice in a row.
    specialKeys.value = '';
    if (combo) withInput((rfb) => sendCombo(rfb, combo));
  });

  const connection = new ScreenConnection(o.tickets, o.host, o.viewOnlyAtGateway, {
    state: (next) => {
      state = next;
      if (next === 'reconnecting' || next === 'disconnected') {
        rescale = null;
        linkStatus.stop();
      }
      if (next === 'connected' || next === 'disconnected') paneStatus.hide();
      status.setState(next);
      updateInputControls();
    },
    created: (rfb, ws) => {
      rfb.background = SCREEN_BACKGROUND;
      rescale = hookDisplayScale(rfb, pixelScale, () => showResolution(o.host));
      // Where noVNC's keyboard cannot be reached the option would do nothing: it is not offered.
      if (!hookKeyboard(rfb, (keysym, code, down) => swap.map(keysym, code, down))) cmdCtrlToggle.hidden = true;
      // Else noVNC 1.7's view-only viewer stops when the VM copies (see the hook); no control depends on it.
      hookViewOnlyClipboard(rfb);
      // Else noVNC's own copies: correct, and slow only without a GPU.
      hookCanvasCopies(rfb);
      const measured = linkStatus.start(rfb, ws, (sample) => quality.sample(sample));
      rfb.viewOnly = viewOnly();
      rfb.showDotCursor = dotCursor();
      // A viewer made while the soft keyboard is up (a reconnect) must not drop it on the next tap.
      rfb.focusOnClick = !keyBar.typing();
      quality.attach(rfb, measured);
      applyViewport(rfb);
    },
    connected: (rfb) => {
      lastFrame.hide();
      linkStatus.show();
      if (watching !== null) showWatching();
      if (!clipboard.hasFocus() && !keyBar.typing()) rfb.focus({ preventScroll: true });
      o.observer.connected();
    },
    progress: (step) => paneStatus.show(connectingText(step, state === 'reconnecting', "the gateway is opening the build VM's screen")),
    dropped: (frame) => lastFrame.show(frame, scaled(), window.devicePixelRatio),
    desktopName: (name) => {
      status.setDetail(cleanVmTitle(name));
      tabTitle.setBase(pageTitle(name, o.buildLabel) ?? pageOwnTitle);
    },
    clipboard: (text) => {
      clipboard.receive(text);
      clipboardSync.fromVm(text);
    },
    disconnected: (why) => {
      lastFrame.hide();
      linkStatus.stop();
      o.observer.ended(why);
      showDisconnect(status, why, describeScreenDisconnect, o.signInHref);
    },
  }, watching);

  status.onReconnect(() => {
    status.showReconnect(false);
    status.clearBanner();
    status.setDetail('');
    showResolution(null);
    tabTitle.setBase(pageOwnTitle);
    connection.connect();
  });

  status.setWindow(o.initialRemainingMs);
  updateInputControls();
  connection.connect();
  if (!status.windowClosed) {
    const poll = pollWindow(o.windowSource, (view) => {
      if (view.open) status.setWindow(view.remainingMs);
      else status.closeWindow();
      o.observer.window(view.closesAt);
    });
    status.onWindowClosed(() => poll.stop());
  }

  return {
    focus: () => connection.rfb?.focus({ preventScroll: true }),
    disconnect: () => connection.disconnect(),
    allowInput: (allowed) => {
      if (watching === null || allowed === driving) return;
      driving = allowed;
      // The toggle is the one place noVNC's viewOnly is set from; a disabled button ignores clicks.
      viewOnlyToggle.disabled = false;
      if (viewOnly() === allowed) viewOnlyToggle.click();
      viewOnlyToggle.disabled = !allowed;
      if (state === 'connected') showWatching();
    },
  };

  function showWatching(): void {
    status.showBanner('info', driving ? DRIVING_TEXT : WATCHING_TEXT);
  }

  /**
   * Fitted, the whole desktop fits the window. At 1:1 pixels the browser's scrollbars pan it:
   * clipping would instead pan by dragging, which then never reaches the VM.
   */
  function applyViewport(rfb: RFB): void {
    o.host.classList.toggle('is-device-pixels', !scaled());
    rfb.clipViewport = false;
    rfb.dragViewport = false;
    rfb.scaleViewport = scaled();
    // noVNC skips its own update when scaleViewport does not change; the device pixel ratio may have.
    rescale?.();
  }

  /**
   * noVNC's unscaled display is one VM pixel per CSS pixel, which a HiDPI display blurs up to
   * several device pixels; "1:1 pixels" means one device pixel. Null: noVNC's fit stays.
   */
  function pixelScale(): number | null {
    return scaled() ? null : oneToOneScale(window.devicePixelRatio);
  }

  /** noVNC's canvas has the desktop's size in VM pixels (it never clips: applyViewport). */
  function showResolution(host: HTMLElement | null): void {
    const canvas = host?.querySelector('canvas');
    const text = canvas ? describeResolution(canvas.width, canvas.height) : '';
    resolution.textContent = text;
    resolution.hidden = text === '';
  }

  function withViewer(use: (rfb: RFB) => void): void {
    const rfb = connection.rfb;
    if (rfb) use(rfb);
  }

  /** Input goes to the VM only from a live, non-view-only session; the screen gets focus back for typing on. */
  function withInput(use: (rfb: RFB) => void): void {
    const rfb = connection.rfb;
    if (!rfb || !canSendInput()) return;
    use(rfb);
    rfb.focus({ preventScroll: true });
  }

  /** What the person types, clicks or pastes may reach the VM now. */
  function canSendInput(): boolean {
    return state === 'connected' && !viewOnly();
  }

  function updateInputControls(): void {
    const canSend = canSendInput();
    cmdCtrlToggle.disabled = viewOnly();
    ctrlAltDel.disabled = !canSend;
    specialKeys.disabled = !canSend;
    clipboard.setCanSend(canSend);
    clipboardSync.update();
    keyBar.update({ canSend, viewOnly: viewOnly() });
  }
}

/**
 * Dragging the window to a display of another density, or zooming the page, changes
 * devicePixelRatio; a media query on the current ratio is the one notice browsers give.
 */
function followDevicePixelRatio(changed: () => void): void {
  const watch = (): void => {
    const query = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    query.addEventListener(
      'change',
      () => {
        changed();
        watch();
      },
      { once: true },
    );
  };
  watch();
}
