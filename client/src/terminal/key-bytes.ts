/**
 * The bytes the touch key bar sends (issue #21): what xterm.js itself sends for the same keys
 * (its common/input/Keyboard.ts), so a program cannot tell the bar from a hardware keyboard.
 * The bar's Ctrl and Alt are one-shot: they change the next key, from the bar or the soft keyboard.
 * No DOM: the unit tests import it.
 */

export type BarKey = 'Escape' | 'Tab' | 'ArrowUp' | 'ArrowDown' | 'ArrowRight' | 'ArrowLeft';

export interface LatchedModifiers {
  readonly ctrl: boolean;
  readonly alt: boolean;
}

export const NO_MODIFIERS: LatchedModifiers = { ctrl: false, alt: false };

const ESC = '\x1b';
const DEL = '\x7f';
const ARROW_FINAL: Readonly<Record<'ArrowUp' | 'ArrowDown' | 'ArrowRight' | 'ArrowLeft', string>> = { ArrowUp: 'A', ArrowDown: 'B', ArrowRight: 'C', ArrowLeft: 'D' };

/** Ctrl with these keys (unshifted, as xterm.js maps key codes) gives these control codes. */
const CTRL_SPECIALS: Readonly<Record<string, string>> = {
  ' ': '\x00',
  '@': '\x00',
  '3': '\x1b',
  '4': '\x1c',
  '5': '\x1d',
  '6': '\x1e',
  '7': '\x1f',
  '8': DEL,
  '[': '\x1b',
  '\\': '\x1c',
  ']': '\x1d',
  _: '\x1f',
  // Ctrl+Backspace is ^H, as xterm.js sends it.
  [DEL]: '\b',
};

/** `applicationCursor`: the program asked for application cursor keys (DECCKM, xterm.js's `modes.applicationCursorKeysMode`). */
export function barKeyBytes(key: BarKey, mods: LatchedModifiers, applicationCursor: boolean): string {
  switch (key) {
    case 'Escape':
      return mods.alt ? ESC + ESC : ESC;
    case 'Tab':
      // xterm.js sends a plain HT whatever Ctrl or Alt say.
      return '\t';
    case 'ArrowUp':
    case 'ArrowDown':
    case 'ArrowRight':
    case 'ArrowLeft': {
      const final = ARROW_FINAL[key];
      // xterm's modifier parameter: 1 + (Alt 2) + (Ctrl 4).
      const param = (mods.alt ? 2 : 0) + (mods.ctrl ? 4 : 0);
      if (param > 0) return `${ESC}[1;${param + 1}${final}`;
      return applicationCursor ? `${ESC}O${final}` : `${ESC}[${final}`;
    }
  }
}

/**
 * One typed character with the latched modifiers. Ctrl makes a letter its control code whatever its
 * case (a soft keyboard may capitalise it), and the few punctuation keys xterm.js maps; a character
 * Ctrl means nothing for is sent as it is. Alt prefixes ESC (xterm.js's Meta), and with Ctrl only
 * a letter or space also takes Ctrl, as in xterm.js.
 */
export function modifiedChar(ch: string, mods: LatchedModifiers): string {
  // Tab is HT whatever Ctrl or Alt say, in xterm.js.
  if (ch === '\t') return ch;
  const letter = /^[a-zA-Z]$/.test(ch);
  if (mods.alt) {
    if (mods.ctrl && letter) return ESC + ctrlOfLetter(ch);
    if (mods.ctrl && ch === ' ') return ESC + '\x00';
    return ESC + ch;
  }
  if (!mods.ctrl) return ch;
  if (letter) return ctrlOfLetter(ch);
  return CTRL_SPECIALS[ch] ?? ch;
}

function ctrlOfLetter(ch: string): string {
  return String.fromCharCode(ch.toUpperCase().charCodeAt(0) - 64);
}

/** An arrow as xterm.js reports it in onData, in either cursor mode. */
// eslint-disable-next-line no-control-regex -- ESC starts the sequence being matched.
const ARROW_SEQUENCE = /^\x1b[[O]([ABCD])$/;
const ARROW_OF_FINAL: Readonly<Record<string, BarKey>> = { A: 'ArrowUp', B: 'ArrowDown', C: 'ArrowRight', D: 'ArrowLeft' };

/**
 * What xterm.js reported as typed (`onData`), with the latched modifiers applied, or null when they
 * do not apply to it: the terminal's own replies to the program (cursor reports, focus and mouse
 * reports) and pastes are longer than one key, and stay as they are with the modifiers still latched.
 */
export function modifiedInput(data: string, mods: LatchedModifiers, applicationCursor: boolean): string | null {
  const chars = [...data];
  if (chars.length === 1) return modifiedChar(data, mods);
  const arrow = ARROW_SEQUENCE.exec(data);
  if (arrow) return barKeyBytes(ARROW_OF_FINAL[arrow[1] ?? ''] ?? 'ArrowUp', mods, applicationCursor);
  return null;
}
