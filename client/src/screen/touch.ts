/**
 * Phones and tablets, which have no Ctrl, Alt, Tab, Esc or ⌘ of their own: a coarse primary
 * pointer, or any touch points at all (an iPad with a trackpad reports a fine pointer).
 */
export function isTouchDevice(): boolean {
  return window.matchMedia('(pointer: coarse)').matches || navigator.maxTouchPoints > 0;
}
