/**
 * A Full screen button for the terminal and the screen pages. In full screen the page may also ask
 * for the keys the browser would take (Keyboard Lock API, Chromium): Ctrl+W then reaches the
 * shell instead of closing the tab, and Esc the program instead of leaving full screen (holding
 * Esc still leaves). Elsewhere, or where the browser refuses, full screen works without it.
 */

/** Chromium's Keyboard Lock API, not in TypeScript's DOM types yet. */
interface KeyboardLock {
  lock(codes?: readonly string[]): Promise<void>;
  unlock(): void;
}

function keyboardLock(): KeyboardLock | null {
  const keyboard = (navigator as Navigator & { keyboard?: Partial<KeyboardLock> }).keyboard;
  return typeof keyboard?.lock === 'function' && typeof keyboard.unlock === 'function' ? (keyboard as KeyboardLock) : null;
}

/**
 * `lockKeys`: KeyboardEvent.code values to keep from the browser while in full screen. `refocus`:
 * gives the keyboard back to what the button took it from (the terminal) once the change is made.
 */
export function wireFullscreen(button: HTMLButtonElement, onError: () => void, lockKeys: readonly string[] = [], refocus?: () => void): void {
  if (!document.fullscreenEnabled) {
    button.hidden = true;
    return;
  }
  const lock = lockKeys.length > 0 ? keyboardLock() : null;
  const update = (): void => {
    const full = document.fullscreenElement !== null;
    button.textContent = full ? 'Exit full screen' : 'Full screen';
    button.setAttribute('aria-pressed', String(full));
    if (!lock) return;
    // The lock is only honoured in full screen; a refusal leaves the browser's keys as they are.
    if (full) lock.lock(lockKeys).catch(() => undefined);
    else lock.unlock();
  };
  // Also fires when the user leaves with Esc or the browser's own controls.
  document.addEventListener('fullscreenchange', update);
  button.addEventListener('click', () => {
    const change = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
    change.then(() => refocus?.(), onError);
  });
  update();
}
