/**
 * The screen's key bar for touch devices (issue #21): Ctrl, Alt and ⌘ latch for the next key and
 * show it, Tab and Esc, and Show keyboard, which raises the phone's soft keyboard over the canvas
 * by focusing a hidden textarea whose typing is forwarded as key events (typed-input.ts).
 *
 * Taps on the bar never move focus: the soft keyboard stays up while a modifier is latched, and
 * the canvas keeps the keys of a hardware keyboard.
 */
import { ALT, COMMAND, CONTROL, ESCAPE, sendChord, TAB, type Key, type KeySender } from './keys.js';
import { BACKSPACE, diffTyped, KEYBOARD_FILLER, keyOfKeydown, keysymForChar, needsRefill } from './typed-input.js';

/** Keyed by the bar's server-rendered data-modifier values, in the order they go down. */
const MODIFIERS: ReadonlyMap<string, Key> = new Map([
  ['ctrl', CONTROL],
  ['alt', ALT],
  ['cmd', COMMAND],
]);
/** Keyed by the bar's data-key values. */
const KEYS: ReadonlyMap<string, Key> = new Map([
  ['tab', TAB],
  ['esc', ESCAPE],
]);

export interface KeyBarElements {
  readonly bar: HTMLElement;
  /** The toolbar's button that shows and hides the bar. */
  readonly toggle: HTMLButtonElement;
  readonly showKeyboard: HTMLButtonElement;
  readonly input: HTMLTextAreaElement;
}

export interface KeyBarTarget extends KeySender {
  /**
   * noVNC focuses its canvas on a tap, which would drop the soft keyboard: while it is up, a tap
   * must only click in the VM.
   */
  setFocusOnClick(focus: boolean): void;
}

export interface KeyBar {
  /** Connected and not view-only: keys can go; view-only (or watching): no bar at all. */
  update(state: { readonly canSend: boolean; readonly viewOnly: boolean }): void;
  /** The soft keyboard's field has focus, which the screen must then not take. */
  typing(): boolean;
}

export function wireKeyBar(els: KeyBarElements, target: KeyBarTarget, touch: boolean): KeyBar {
  const { bar, toggle, showKeyboard, input } = els;
  const latched = new Set<string>();
  const modifierButtons = [...bar.querySelectorAll<HTMLButtonElement>('button[data-modifier]')];
  const keyButtons = [...bar.querySelectorAll<HTMLButtonElement>('button[data-key]')];
  const allButtons = [...modifierButtons, ...keyButtons, showKeyboard];
  let wanted = toggle.getAttribute('aria-pressed') !== 'false';
  let viewOnly = true;
  let canSend = false;
  let lastValue = '';

  const showLatches = (): void => {
    for (const button of modifierButtons) button.setAttribute('aria-pressed', String(latched.has(button.dataset['modifier'] ?? '')));
  };

  /** The key with the latched modifiers (and a hardware keyboard's own), which then let go. */
  const press = (key: Key, held: readonly Key[] = []): void => {
    if (!canSend) return;
    const modifiers = [...MODIFIERS].filter(([name, mod]) => latched.has(name) || held.includes(mod)).map(([, mod]) => mod);
    sendChord(target, modifiers, key);
    latched.clear();
    showLatches();
  };

  for (const button of allButtons) {
    // Keeps focus where it is (the soft keyboard's field or the canvas): a tap here is not a move.
    button.addEventListener('pointerdown', (ev) => ev.preventDefault());
    button.addEventListener('mousedown', (ev) => ev.preventDefault());
  }
  for (const button of modifierButtons) {
    const name = button.dataset['modifier'] ?? '';
    if (!MODIFIERS.has(name)) continue;
    button.addEventListener('click', () => {
      if (latched.has(name)) latched.delete(name);
      else latched.add(name);
      showLatches();
    });
  }
  for (const button of keyButtons) {
    const key = KEYS.get(button.dataset['key'] ?? '');
    if (key) button.addEventListener('click', () => press(key));
  }

  const refill = (): void => {
    input.value = KEYBOARD_FILLER;
    lastValue = input.value;
    // Typing lands at the end, after the filler a Backspace can eat.
    input.setSelectionRange(input.value.length, input.value.length);
  };
  showKeyboard.addEventListener('click', () => {
    if (document.activeElement === input) {
      input.blur();
      return;
    }
    refill();
    input.focus({ preventScroll: true });
  });
  input.addEventListener('focus', () => {
    showKeyboard.setAttribute('aria-pressed', 'true');
    target.setFocusOnClick(false);
  });
  input.addEventListener('blur', () => {
    showKeyboard.setAttribute('aria-pressed', 'false');
    target.setFocusOnClick(true);
  });
  input.addEventListener('keydown', (ev) => {
    const held = keyOfKeydown(ev);
    if (!held) return;
    // Sent here, so the field neither changes nor loses focus to Tab.
    ev.preventDefault();
    ev.stopPropagation();
    press(held.key, [held.ctrl ? CONTROL : null, held.alt ? ALT : null, held.meta ? COMMAND : null].filter((k) => k !== null));
  });
  input.addEventListener('input', (ev) => {
    const { deleted, inserted } = diffTyped(lastValue, input.value);
    lastValue = input.value;
    for (let i = 0; i < deleted; i += 1) press(BACKSPACE);
    for (const char of inserted) {
      const keysym = keysymForChar(char);
      if (keysym !== null) press({ keysym, code: null });
    }
    if (!(ev instanceof InputEvent && ev.isComposing) && needsRefill(input.value.length)) refill();
  });
  input.addEventListener('compositionend', () => {
    if (needsRefill(input.value.length)) refill();
  });

  toggle.addEventListener('click', () => {
    wanted = !wanted;
    toggle.setAttribute('aria-pressed', String(wanted));
    render();
  });

  function render(): void {
    toggle.hidden = !touch || viewOnly;
    bar.hidden = !touch || viewOnly || !wanted;
    for (const button of allButtons) button.disabled = !canSend;
    if (!canSend && latched.size > 0) {
      latched.clear();
      showLatches();
    }
    // A hidden bar or a screen that takes no input: the soft keyboard has nothing to type into.
    if ((bar.hidden || viewOnly) && document.activeElement === input) input.blur();
  }

  render();
  return {
    update: (state) => {
      canSend = state.canSend;
      viewOnly = state.viewOnly;
      render();
    },
    typing: () => document.activeElement === input,
  };
}
