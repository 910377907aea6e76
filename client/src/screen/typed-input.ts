/**
 * What a soft keyboard typed, as keys for the VM. Phone keyboards rarely send usable keydown
 * events (Android's say only "229, composing"), so the screen's hidden textarea is read the way
 * noVNC's own app reads its: by comparing its text before and after each `input` event. The field
 * is kept full of filler so that a soft keyboard always has something to delete: with an empty
 * field Backspace sends nothing at all.
 */
import { ESCAPE, TAB, type Key } from './keys.js';

/** Enough to hold a word the keyboard is still composing and many Backspaces before a refill. */
export const KEYBOARD_FILLER_CHARS = 100;
export const KEYBOARD_FILLER = '_'.repeat(KEYBOARD_FILLER_CHARS);

export const BACKSPACE: Key = { keysym: 0xff08, code: 'Backspace' };
const RETURN: Key = { keysym: 0xff0d, code: 'Enter' };

/** Latin-1's printable characters are their own keysyms (keysymdef.h). */
const LATIN1_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa0, 0xff],
];
/** X11's Unicode keysyms: 0x01000000 + the code point, which Xvnc and macOS servers map themselves. */
const UNICODE_KEYSYM_BASE = 0x0100_0000;

/** The keysym of one typed character (a code point); null for a control character nobody types. */
export function keysymForChar(char: string): number | null {
  if (char === '\n' || char === '\r') return RETURN.keysym;
  if (char === '\t') return TAB.keysym;
  const cp = char.codePointAt(0);
  if (cp === undefined || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return null;
  if (LATIN1_RANGES.some(([from, to]) => cp >= from && cp <= to)) return cp;
  return UNICODE_KEYSYM_BASE + cp;
}

export interface TypedChange {
  /** Characters (code points) removed from the end: that many Backspaces. */
  readonly deleted: number;
  /** What was typed after them. */
  readonly inserted: string;
}

/**
 * The edit that turns `before` into `after`, as a keyboard would make it at the end of the line:
 * a correction in the middle (autocorrect, a composed word changing) is sent as Backspaces back to
 * the first changed character and the new text from there.
 */
export function diffTyped(before: string, after: string): TypedChange {
  const shared = Math.min(before.length, after.length);
  let i = 0;
  while (i < shared && before.charCodeAt(i) === after.charCodeAt(i)) i += 1;
  // The first difference inside a surrogate pair (one emoji for another): the whole pair changed.
  if (i > 0 && isHighSurrogate(before.charCodeAt(i - 1))) i -= 1;
  return { deleted: [...before.slice(i)].length, inserted: after.slice(i) };
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** Refilled outside these bounds, and only between compositions (a refill mid-word breaks the keyboard's edit). */
export function needsRefill(length: number): boolean {
  return length < KEYBOARD_FILLER_CHARS / 2 || length > KEYBOARD_FILLER_CHARS * 2;
}

/** Keys a keydown names properly on any keyboard; sent from the keydown, which is then cancelled. */
const NAMED_KEYS: ReadonlyMap<string, Key> = new Map([
  ['Enter', RETURN],
  ['Backspace', BACKSPACE],
  ['Tab', TAB],
  ['Escape', ESCAPE],
  ['Delete', { keysym: 0xffff, code: 'Delete' }],
  ['ArrowLeft', { keysym: 0xff51, code: 'ArrowLeft' }],
  ['ArrowUp', { keysym: 0xff52, code: 'ArrowUp' }],
  ['ArrowRight', { keysym: 0xff53, code: 'ArrowRight' }],
  ['ArrowDown', { keysym: 0xff54, code: 'ArrowDown' }],
  ['Home', { keysym: 0xff50, code: 'Home' }],
  ['End', { keysym: 0xff57, code: 'End' }],
  ['PageUp', { keysym: 0xff55, code: 'PageUp' }],
  ['PageDown', { keysym: 0xff56, code: 'PageDown' }],
]);

export interface KeydownLike {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly altKey: boolean;
  readonly metaKey: boolean;
  readonly isComposing: boolean;
}

export interface HeldKeys {
  /** Which of the keyboard's own modifiers were held (a tablet's hardware keyboard). */
  readonly ctrl: boolean;
  readonly alt: boolean;
  readonly meta: boolean;
  readonly key: Key;
}

/**
 * A keydown in the hidden field the page sends itself; null for a plain character (or a
 * composition), which the `input` event that follows carries.
 */
export function keyOfKeydown(ev: KeydownLike): HeldKeys | null {
  if (ev.isComposing) return null;
  const held = { ctrl: ev.ctrlKey, alt: ev.altKey, meta: ev.metaKey };
  const named = NAMED_KEYS.get(ev.key);
  if (named) return { ...held, key: named };
  // A character with a modifier types nothing into the field: only the keydown knows it.
  if ((ev.ctrlKey || ev.altKey || ev.metaKey) && [...ev.key].length === 1) {
    const keysym = keysymForChar(ev.key);
    if (keysym !== null) return { ...held, key: { keysym, code: null } };
  }
  return null;
}
