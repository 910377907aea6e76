/**
 * The keyboard's way out of the terminal (WCAG 2.1.2, no keyboard trap): the terminal takes Tab
 * for the shell's completion, so Tab alone never leaves it. Ctrl+Shift+M (as in VS Code) switches
 * Tab to moving the focus and back; a screen reader hears the switch. After a final disconnect
 * Tab moves the focus by itself: there is no shell to complete for.
 */
import { CTRL_SHIFT, hasModifiers, isLetter } from './keys.js';

export const TAB_MOVES_FOCUS_ON = 'Tab now moves the focus out of the terminal. Ctrl+Shift+M gives Tab back to the shell.';
export const TAB_MOVES_FOCUS_OFF = 'Tab goes to the shell again. Ctrl+Shift+M lets Tab move the focus.';

export interface TabFocus {
  /** For xterm's key handler: true when the event is not the terminal's (it must not reach the VM). */
  handleKey(ev: KeyboardEvent): boolean;
  /** No shell any more (a final close): Tab moves the focus whatever the switch says. */
  setShellGone(gone: boolean): void;
  readonly tabMovesFocus: boolean;
}

export function wireTabFocus(announce: (message: string) => void): TabFocus {
  let switched = false;
  let shellGone = false;
  return {
    handleKey(ev) {
      if (hasModifiers(ev, CTRL_SHIFT) && isLetter(ev, 'm')) {
        if (ev.type === 'keydown') {
          switched = !switched;
          announce(switched ? TAB_MOVES_FOCUS_ON : TAB_MOVES_FOCUS_OFF);
        }
        ev.preventDefault();
        return true;
      }
      // Not handled by xterm and not prevented: the browser moves the focus.
      return ev.key === 'Tab' && !ev.ctrlKey && !ev.altKey && !ev.metaKey && (switched || shellGone);
    },
    setShellGone(gone) {
      shellGone = gone;
    },
    get tabMovesFocus() {
      return switched || shellGone;
    },
  };
}
