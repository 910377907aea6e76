/**
 * Key combinations the browser or the local OS would never let reach the page (⌘Q quits the
 * browser, ⌘Tab switches apps, ⌘Space opens Spotlight), sent to the VM as X keysyms.
 */
import type RFB from '@novnc/novnc';

interface Key {
  readonly keysym: number;
  /** KeyboardEvent.code, for servers that take scancodes (QEMU's extended key events). */
  readonly code: string;
}

// X11 keysyms (keysymdef.h). macOS VNC servers map Super to ⌘.
const COMMAND: Key = { keysym: 0xffeb, code: 'MetaLeft' }; // XK_Super_L
const TAB: Key = { keysym: 0xff09, code: 'Tab' };
const SPACE: Key = { keysym: 0x0020, code: 'Space' };
const ESCAPE: Key = { keysym: 0xff1b, code: 'Escape' };
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
export function sendCombo(rfb: RFB, name: string): boolean {
  const combo = COMBOS.get(name);
  if (!combo) return false;
  for (const mod of combo.modifiers) rfb.sendKey(mod.keysym, mod.code, true);
  rfb.sendKey(combo.key.keysym, combo.key.code, true);
  rfb.sendKey(combo.key.keysym, combo.key.code, false);
  // Released in reverse, as on a real keyboard: the key goes up while ⌘ is still held.
  for (const mod of [...combo.modifiers].reverse()) rfb.sendKey(mod.keysym, mod.code, false);
  return true;
}
