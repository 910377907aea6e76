/** Keyboard shortcut helpers shared by the clipboard and search bindings. */

// navigator.platform is deprecated but still the most reliable signal; the user agent covers
// browsers that blank it.
export const IS_MAC = /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);

/** A terminal app can bind almost anything, so shortcuts must match their modifiers exactly. */
export interface Modifiers {
  readonly ctrl: boolean;
  readonly shift: boolean;
  readonly alt: boolean;
  readonly meta: boolean;
}

export function hasModifiers(ev: KeyboardEvent, mods: Modifiers): boolean {
  return ev.ctrlKey === mods.ctrl && ev.shiftKey === mods.shift && ev.altKey === mods.alt && ev.metaKey === mods.meta;
}

/**
 * Whether the key is the given Latin letter. Layouts without Latin letters (Cyrillic, Greek…)
 * fall back to the physical key, as native shortcuts do.
 */
export function isLetter(ev: KeyboardEvent, letter: string): boolean {
  const key = ev.key.toLowerCase();
  if (/^[a-z]$/.test(key)) return key === letter;
  return ev.code === `Key${letter.toUpperCase()}`;
}

export const CTRL_SHIFT: Modifiers = { ctrl: true, shift: true, alt: false, meta: false };
export const CTRL: Modifiers = { ctrl: true, shift: false, alt: false, meta: false };
export const CMD: Modifiers = { ctrl: false, shift: false, alt: false, meta: true };
