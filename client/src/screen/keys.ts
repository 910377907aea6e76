/**
 * Keys sent to the VM as X keysyms: the combinations the browser or the local OS would never let
 * reach the page (⌘Q quits the browser, ⌘Tab switches apps, ⌘Space opens Spotlight), and the
 * touch key bar's keys and modifiers.
 */

/** What noVNC's RFB.sendKey needs; a narrow type so the chords can be tested without a viewer. */
export interface KeySender {
  sendKey(keysym: number, code: string | null, down?: boolean): void;
}

export interface Key {
  readonly keysym: number;
  /** KeyboardEvent.code, for servers that take scancodes (QEMU's extended key events); null: none fits. */
  readonly code: string | null;
}

// X11 keysyms (keysymdef.h). macOS VNC servers map Super to ⌘ and Alt to ⌥; noVNC sends a
// browser's Meta key as Super_L too.
export const COMMAND: Key = { keysym: 0xffeb, code: 'MetaLeft' }; // XK_Super_L
export const CONTROL: Key = { keysym: 0xffe3, code: 'ControlLeft' }; // XK_Control_L
export const ALT: Key = { keysym: 0xffe9, code: 'AltLeft' }; // XK_Alt_L
export const TAB: Key = { keysym: 0xff09, code: 'Tab' };
export const ESCAPE: Key = { keysym: 0xff1b, code: 'Escape' };
const SPACE: Key = { keysym: 0x0020, code: 'Space' };
const Q: Key = { keysym: 0x0071, code: 'KeyQ' };
const C: Key = { keysym: 0x0063, code: 'KeyC' };
const V: Key = { keysym: 0x0076, code: 'KeyV' };

interface Combo {
  readonly modifiers: readonly Key[];
  readonly key: Key;
}

/** Keyed by the server-rendered #special-keys option values; a Map, so "constructor" is not a combo. */
const COMBOS: ReadonlyMap<string, Combo> = new Map([
  ['cmd-q', { modifiers: [COMMAND], key: Q }],
  ['cmd-tab', { modifiers: [COMMAND], key: TAB }],
  ['cmd-space', { modifiers: [COMMAND], key: SPACE }],
  ['cmd-c', { modifiers: [COMMAND], key: C }],
  ['cmd-v', { modifiers: [COMMAND], key: V }],
  ['esc', { modifiers: [], key: ESCAPE }],
]);

/** Returns false for a name it does not know (a newer page template). */
export function sendCombo(rfb: KeySender, name: string): boolean {
  const combo = COMBOS.get(name);
  if (!combo) return false;
  sendChord(rfb, combo.modifiers, combo.key);
  return true;
}

/** Presses `key` with `modifiers` held, and lets go of everything. */
export function sendChord(rfb: KeySender, modifiers: readonly Key[], key: Key): void {
  for (const mod of modifiers) rfb.sendKey(mod.keysym, mod.code, true);
  rfb.sendKey(key.keysym, key.code, true);
  rfb.sendKey(key.keysym, key.code, false);
  // Released in reverse, as on a real keyboard: the key goes up while ⌘ is still held.
  for (const mod of [...modifiers].reverse()) rfb.sendKey(mod.keysym, mod.code, false);
}
