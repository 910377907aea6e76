/**
 * The automatic clipboard's ties to the browser (the decisions are clipboard-sync.ts's): the async
 * Clipboard API, the 'clipboard-read' permission as the browser reports it, focus, the Allow
 * button, and paste shortcuts in the screen.
 *
 * noVNC sends a key the moment it is pressed, so ⌘V would reach the VM before the text it should
 * paste. A paste shortcut in the screen therefore holds that key, and any typed after it, until
 * the user's clipboard has been read and sent, then hands them to noVNC in order.
 */
import { ClipboardSync, isPasteShortcut, type AsyncClipboard, type ClipboardPermission } from './clipboard-sync.js';

/** A granted read answers within milliseconds; past this the held keys go to the VM without it. */
const PASTE_READ_WAIT_MS = 1000;
/** Keys typed while a paste waits (a held key repeats ~30 times a second); past this they go at once. */
const MAX_HELD_KEYS = 64;

export interface ClipboardSyncOptions {
  /** The screen: noVNC's canvas is inside it. */
  readonly host: HTMLElement;
  /** Shown while asking would help: the one place the page may raise the permission prompt. */
  readonly allow: HTMLButtonElement;
  /** False on a watching page: it never touches the user's clipboard. */
  readonly enabled: boolean;
  /** Connected and not view-only. */
  canSend(): boolean;
  send(text: string): void;
  /** False if the line could not be shown. */
  hint(text: string): boolean;
}

export interface BrowserClipboardSync {
  /** The VM's clipboard changed. */
  fromVm(text: string): void;
  /** The panel sent this text to the VM. */
  sentFromPanel(text: string): void;
  /** The connection or view-only changed. */
  update(): void;
}

export function wireClipboardSync(o: ClipboardSyncOptions): BrowserClipboardSync {
  // A watching page listens to nothing here and holds no key: the panel is its way.
  if (!o.enabled) {
    o.allow.hidden = true;
    return { fromVm: () => undefined, sentFromPanel: () => undefined, update: () => undefined };
  }
  const api = browserClipboard();
  let permission: ClipboardPermission = 'unsupported';
  const active = (): boolean => o.canSend();
  const sync = new ClipboardSync({
    clipboard: api,
    permission: () => permission,
    hasFocus: () => document.hasFocus(),
    active,
    send: (text) => o.send(text),
    hint: (text) => o.hint(text),
  });
  const showAllow = (): void => {
    o.allow.hidden = !(active() && api !== null && permission === 'prompt');
  };
  if (api !== null) followPermission((state) => {
    permission = state;
    showAllow();
  });
  o.allow.addEventListener('click', () => void sync.allow());

  const onFocus = (): void => void sync.focused();
  window.addEventListener('focus', onFocus);
  o.host.addEventListener('focusin', onFocus);
  holdKeysWhilePasting(o.host, sync);

  return {
    fromVm: (text) => void sync.fromVm(text),
    sentFromPanel: (text) => sync.sentFromPanel(text),
    update: showAllow,
  };
}

function browserClipboard(): AsyncClipboard | null {
  // Absent outside secure contexts, whatever the type says.
  const clipboard = navigator.clipboard as Clipboard | undefined;
  if (typeof clipboard?.readText !== 'function' || typeof clipboard.writeText !== 'function') return null;
  return { readText: () => clipboard.readText(), writeText: (text) => clipboard.writeText(text) };
}

/** Firefox and Safari reject the query (they have no such permission): it stays 'unsupported'. */
function followPermission(changed: (state: ClipboardPermission) => void): void {
  // 'clipboard-read' is Chromium's; TypeScript's DOM types no longer list it.
  navigator.permissions?.query({ name: 'clipboard-read' as PermissionName }).then(
    (status) => {
      const follow = (): void => changed(status.state);
      follow();
      status.addEventListener('change', follow);
    },
    () => {},
  );
}

function holdKeysWhilePasting(host: HTMLElement, sync: ClipboardSync): void {
  const replayed = new WeakSet<Event>();
  let held: KeyboardEvent[] | null = null;
  const release = (): void => {
    const events = held ?? [];
    held = null;
    for (const event of events) replay(event);
  };
  const replay = (event: KeyboardEvent): void => {
    const copy = new KeyboardEvent(event.type, {
      key: event.key,
      code: event.code,
      location: event.location,
      repeat: event.repeat,
      ctrlKey: event.ctrlKey,
      shiftKey: event.shiftKey,
      altKey: event.altKey,
      metaKey: event.metaKey,
      modifierCapsLock: event.getModifierState('CapsLock'),
      modifierNumLock: event.getModifierState('NumLock'),
      modifierAltGraph: event.getModifierState('AltGraph'),
      bubbles: true,
      cancelable: true,
    });
    replayed.add(copy);
    (event.target ?? host).dispatchEvent(copy);
  };
  const onKey = (event: KeyboardEvent): void => {
    if (replayed.has(event)) return;
    if (held === null) {
      if (event.type !== 'keydown' || event.isComposing || !isPasteShortcut(event) || !sync.canRead) {
        // Said once: the VM pastes its own clipboard, and the panel is the way.
        if (event.type === 'keydown' && isPasteShortcut(event)) void sync.pasting();
        return;
      }
      const batch: KeyboardEvent[] = [];
      held = batch;
      void withinMs(sync.pasting(), PASTE_READ_WAIT_MS).then(() => {
        if (held === batch) release();
      });
    }
    // Captured above the canvas: noVNC never sees it until replayed.
    event.preventDefault();
    event.stopImmediatePropagation();
    held.push(event);
    if (held.length >= MAX_HELD_KEYS) release();
  };
  host.addEventListener('keydown', onKey, { capture: true });
  host.addEventListener('keyup', onKey, { capture: true });
}

function withinMs(work: Promise<void>, ms: number): Promise<void> {
  return Promise.race([work, new Promise<void>((resolve) => window.setTimeout(resolve, ms))]);
}
