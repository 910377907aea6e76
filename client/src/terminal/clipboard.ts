/**
 * Copy and paste the way terminal users expect: selecting copies, Ctrl+Shift+C / Ctrl+Shift+V
 * (Cmd+C / Cmd+V on macOS), right-click pastes. Plain Ctrl+C stays ^C for the shell.
 *
 * The VM can never touch the clipboard: no clipboard addon is loaded, so OSC 52 is ignored.
 */
import type { Terminal } from '@xterm/xterm';
import { CMD, CTRL_SHIFT, IS_MAC, hasModifiers, isLetter } from './keys.js';

/**
 * The browser's own paste event fires within the keydown's task; this is margin before falling
 * back to the Clipboard API, not a delay anyone feels.
 */
const NATIVE_PASTE_GRACE_MS = 100;

/** Returns whether the key event was a clipboard shortcut (and so must not reach the VM). */
export type KeyHandler = (ev: KeyboardEvent) => boolean;

/**
 * @param onReadBlocked called when the browser refuses to let us read the clipboard, so the page
 *   can point to the keyboard shortcut, which needs no permission.
 */
export function wireClipboard(term: Terminal, host: HTMLElement, onReadBlocked: () => void): KeyHandler {
  const pasteFromClipboard = (): void => {
    const clipboard = clipboardApi();
    if (!clipboard) {
      onReadBlocked();
      return;
    }
    clipboard.readText().then(
      (text) => {
        if (text) term.paste(text);
        term.focus();
      },
      () => onReadBlocked(),
    );
  };

  wireCopyOnSelect(term, host);

  // Right-click pastes, as in PuTTY and most Linux terminals, unless the app asked for mouse
  // reports (tmux and vim menus); Shift+right-click pastes regardless.
  host.addEventListener('contextmenu', (ev) => {
    ev.preventDefault();
    if (term.modes.mouseTrackingMode !== 'none' && !ev.shiftKey) return;
    pasteFromClipboard();
  });

  // Keyboard pastes go through the browser's own paste event on xterm's textarea: xterm pastes it
  // (bracketed when the app asked), and no clipboard permission prompt appears. Only a browser
  // that does not fire it for the shortcut gets the Clipboard API.
  let nativePasteSeen = false;
  term.textarea?.addEventListener('paste', () => {
    nativePasteSeen = true;
  });

  return (ev) => {
    const mods = IS_MAC ? CMD : CTRL_SHIFT;
    if (!hasModifiers(ev, mods)) return false;
    const copy = isLetter(ev, 'c');
    const paste = isLetter(ev, 'v');
    if (!copy && !paste) return false;
    if (ev.type !== 'keydown') return true;
    if (copy) {
      // Ctrl+Shift+C would otherwise open Chrome's element inspector.
      ev.preventDefault();
      if (term.hasSelection()) writeClipboard(term.getSelection());
      return true;
    }
    nativePasteSeen = false;
    window.setTimeout(() => {
      if (!nativePasteSeen) pasteFromClipboard();
    }, NATIVE_PASTE_GRACE_MS);
    return true;
  };
}

/**
 * Copies what a mouse gesture selected. Tied to the gesture rather than every selection change so
 * that search, which moves the selection to each match, does not overwrite the clipboard.
 */
function wireCopyOnSelect(term: Terminal, host: HTMLElement): void {
  let selecting = false;
  let changed = false;
  host.addEventListener(
    'mousedown',
    (ev) => {
      if (ev.button !== 0) return;
      selecting = true;
      changed = false;
    },
    { capture: true },
  );
  term.onSelectionChange(() => {
    if (selecting) changed = true;
  });
  window.addEventListener(
    'mouseup',
    () => {
      if (!selecting) return;
      // xterm settles the selection in its own mouseup listener, which runs after this one.
      window.setTimeout(() => {
        selecting = false;
        if (changed && term.hasSelection()) writeClipboard(term.getSelection());
      }, 0);
    },
    { capture: true },
  );
}

function writeClipboard(text: string): void {
  // Failures (no focus, permission policy) are not worth interrupting anyone for.
  clipboardApi()
    ?.writeText(text)
    .catch(() => undefined);
}

/** Absent outside secure contexts (plain http to a non-localhost gateway). */
function clipboardApi(): Clipboard | null {
  return 'clipboard' in navigator ? navigator.clipboard : null;
}
