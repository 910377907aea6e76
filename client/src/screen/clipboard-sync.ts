/**
 * The automatic clipboard (issue #19): text copied on the VM lands in the user's clipboard, and
 * text the user copied reaches the VM, where the browser's async Clipboard API allows it. The
 * Clipboard panel (controls.ts) stays the way wherever it does not.
 *
 * - VM → user: written when noVNC reports the VM's clipboard, if the page has focus (browsers
 *   refuse clipboard writes from an unfocused page); otherwise on the next focus.
 * - User → VM: read when the screen or the window gains focus, or on a paste shortcut in the
 *   screen, only while the 'clipboard-read' permission is already granted: focus must never
 *   raise a prompt. Only the Allow affordance (a click) may ask.
 * - Sent only when the user's clipboard changed since the page last read or wrote it, so neither
 *   side's copy echoes back, and a text sent from the panel is not overwritten by an older one.
 * - Never while the page may not send input (view only, not connected) and never on a watching
 *   page: no reads, no writes, no sends.
 *
 * The decisions are here, without the DOM; clipboard-browser.ts wires them to the page.
 */
import { VNC_CLIENT_MESSAGE_MAX_BYTES } from '../../../shared/src/limits.js';

/** 'unsupported': the browser cannot say (Firefox and Safari have no 'clipboard-read' permission). */
export type ClipboardPermission = 'granted' | 'prompt' | 'denied' | 'unsupported';

/**
 * The gateway ends a screen whose message exceeds VNC_CLIENT_MESSAGE_MAX_BYTES; UTF-8 takes at most
 * 3 bytes per UTF-16 unit, and the fourth leaves room for zlib's and the message's own overhead,
 * so this stays below it even where the text does not compress.
 */
export const MAX_CLIPBOARD_SEND_CHARS = VNC_CLIENT_MESSAGE_MAX_BYTES / 4;

/** Whether text may go to the VM in one clipboard message (automatically or from the panel). */
export function fitsClipboardMessage(text: string): boolean {
  return text.length <= MAX_CLIPBOARD_SEND_CHARS;
}

export const CLIPBOARD_HINTS = {
  missing: 'This browser does not let the page use your clipboard: copy and paste through the Clipboard panel.',
  notAllowed: 'The browser does not let the page read your clipboard: paste through the Clipboard panel, or allow the clipboard there.',
  writeRefused: 'The browser did not let the page copy to your clipboard: the VM’s text is in the Clipboard panel.',
  tooLarge: 'Your clipboard is too large to send to the VM automatically.',
  panelTooLarge: `That text is too large to send to the VM at once (over ${MAX_CLIPBOARD_SEND_CHARS / 1024} K characters): send it in parts, or as a file.`,
} as const;

export interface AsyncClipboard {
  readText(): Promise<string>;
  writeText(text: string): Promise<void>;
}

export interface ClipboardSyncDeps {
  /** The browser's async Clipboard API; null where the page has none (an insecure origin, an old browser). */
  readonly clipboard: AsyncClipboard | null;
  /** The last known state of 'clipboard-read', without asking. */
  permission(): ClipboardPermission;
  hasFocus(): boolean;
  /** Whether the page syncs now: connected, not view-only, not watching. */
  active(): boolean;
  /** Puts text on the VM's clipboard. */
  send(text: string): void;
  /** One line for the user, the sync's only one per page; false if it could not be shown (a warning was up). */
  hint(text: string): boolean;
}

export class ClipboardSync {
  /** What the user's clipboard held when the page last read or wrote it; null before either. */
  #local: string | null = null;
  /** What the VM's clipboard was last known to hold. */
  #vm: string | null = null;
  /** The VM's text that arrived while the page had no focus. */
  #pendingWrite: string | null = null;
  /** The read of the user's clipboard in flight, which a second reason to read joins. */
  #reading: Promise<void> | null = null;
  #hinted = false;

  constructor(private readonly deps: ClipboardSyncDeps) {}

  /** Whether a paste shortcut should wait for a read: only one that will happen without a prompt. */
  get canRead(): boolean {
    return this.deps.active() && this.deps.clipboard !== null && this.deps.permission() === 'granted';
  }

  /** The VM's clipboard changed (untrusted text; only ever a clipboard string here). */
  async fromVm(text: string): Promise<void> {
    this.#vm = text;
    this.#pendingWrite = null;
    if (!this.deps.active() || text === this.#local) return;
    if (this.deps.clipboard === null) return this.#hint(CLIPBOARD_HINTS.missing);
    if (!this.deps.hasFocus()) {
      this.#pendingWrite = text;
      return;
    }
    await this.#write(text);
  }

  /** The screen or the window gained focus: a pending VM text is written, else the user's clipboard is read. */
  async focused(): Promise<void> {
    if (!this.deps.active()) return;
    const pending = this.#pendingWrite;
    this.#pendingWrite = null;
    // The VM's text is the newer one the user has not seen; reading now would only read it back.
    if (pending !== null) return this.#write(pending);
    if (this.canRead) await this.#pull();
  }

  /** A paste shortcut in the screen: read first, so the VM pastes the user's text. */
  async pasting(): Promise<void> {
    if (!this.deps.active()) return;
    if (this.deps.clipboard === null) return this.#hint(CLIPBOARD_HINTS.missing);
    if (this.deps.permission() !== 'granted') return this.#hint(CLIPBOARD_HINTS.notAllowed);
    await this.#pull();
  }

  /** The user clicked Allow: a read from a click may prompt for the permission. */
  async allow(): Promise<void> {
    if (!this.deps.active() || this.deps.clipboard === null) return;
    await this.#pull();
  }

  /** Text the user sent from the panel is the VM's now. */
  sentFromPanel(text: string): void {
    this.#vm = text;
  }

  /** One read at a time: a refocus fires both the window's focus and the screen's focusin. */
  #pull(): Promise<void> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  async #read(): Promise<void> {
    const clipboard = this.deps.clipboard;
    if (clipboard === null) return;
    let text: string;
    try {
      text = await clipboard.readText();
    } catch {
      return this.#hint(CLIPBOARD_HINTS.notAllowed);
    }
    // The page may have become view-only, or lost its connection, while the browser answered.
    if (!this.deps.active() || text === this.#local) return;
    this.#local = text;
    // Empty: nothing, or no text (an image), on the user's clipboard; the VM's stays.
    if (text === '' || text === this.#vm) return;
    if (!fitsClipboardMessage(text)) return this.#hint(CLIPBOARD_HINTS.tooLarge);
    this.#vm = text;
    this.deps.send(text);
  }

  async #write(text: string): Promise<void> {
    const clipboard = this.deps.clipboard;
    if (clipboard === null) return;
    try {
      await clipboard.writeText(text);
      this.#local = text;
    } catch {
      // Focus lost between the check and the write: the next focus writes it.
      if (!this.deps.hasFocus()) this.#pendingWrite ??= text;
      else this.#hint(CLIPBOARD_HINTS.writeRefused);
    }
  }

  #hint(text: string): void {
    if (!this.#hinted) this.#hinted = this.deps.hint(text);
  }
}

/** Ctrl+V, or ⌘V on a Mac, whatever the layout puts V: the keys after which the VM pastes. */
export function isPasteShortcut(key: { readonly key: string; readonly ctrlKey: boolean; readonly metaKey: boolean; readonly altKey: boolean }): boolean {
  return (key.ctrlKey || key.metaKey) && !key.altKey && key.key.toLowerCase() === 'v';
}
