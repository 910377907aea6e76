/**
 * The key bar for touch devices (issue #21): the keys a phone's soft keyboard lacks (Esc, Tab,
 * Ctrl, Alt, arrows, | ~ /) under the terminal. Ctrl and Alt latch for one key, from the bar or
 * the soft keyboard, and show that they are latched. Tapping the bar never takes the focus from
 * the terminal, so the soft keyboard stays up. Shown by default where the main pointer is a finger,
 * offered (the Keys button) wherever there is a touch screen, and the choice is remembered.
 */
import { readSetting, writeSetting, type SettingsStorage } from '../lib/storage.js';
import { NO_MODIFIERS, barKeyBytes, modifiedChar, modifiedInput, type BarKey, type LatchedModifiers } from './key-bytes.js';

export const KEY_BAR_STORAGE_KEY = 'porthole.terminal.keyBar';

export interface KeyBarTarget {
  /** Sends bytes as typed input (xterm.js's `input`, so the page treats them as any key). */
  send(bytes: string): void;
  applicationCursor(): boolean;
}

type Modifier = 'ctrl' | 'alt';

interface KeySpec {
  readonly label: string;
  /** What a screen reader says where the label is a symbol. */
  readonly name: string;
  readonly press: BarKey | { readonly char: string } | Modifier;
}

const KEYS: readonly KeySpec[] = [
  { label: 'Esc', name: 'Escape', press: 'Escape' },
  { label: 'Tab', name: 'Tab', press: 'Tab' },
  { label: 'Ctrl', name: 'Control, for the next key', press: 'ctrl' },
  { label: 'Alt', name: 'Alt, for the next key', press: 'alt' },
  { label: '←', name: 'Left arrow', press: 'ArrowLeft' },
  { label: '↑', name: 'Up arrow', press: 'ArrowUp' },
  { label: '↓', name: 'Down arrow', press: 'ArrowDown' },
  { label: '→', name: 'Right arrow', press: 'ArrowRight' },
  { label: '|', name: 'Vertical bar', press: { char: '|' } },
  { label: '~', name: 'Tilde', press: { char: '~' } },
  { label: '/', name: 'Slash', press: { char: '/' } },
];

export class KeyBar {
  #mods: LatchedModifiers = NO_MODIFIERS;
  #enabled = true;
  readonly #modifierButtons = new Map<Modifier, HTMLButtonElement>();
  readonly #buttons: HTMLButtonElement[] = [];

  constructor(
    private readonly bar: HTMLElement,
    toggle: HTMLButtonElement | null,
    storage: SettingsStorage | null,
    private readonly target: KeyBarTarget,
  ) {
    for (const spec of KEYS) bar.append(this.#button(spec));
    const touch = window.matchMedia('(any-pointer: coarse)').matches || navigator.maxTouchPoints > 0;
    const remembered = readSetting(storage, KEY_BAR_STORAGE_KEY);
    const shown = remembered === null ? window.matchMedia('(pointer: coarse)').matches : remembered === 'shown';
    this.#show(shown, toggle);
    if (!toggle) return;
    // A desktop without a touch screen has a keyboard with all of these keys.
    toggle.hidden = !touch && !shown;
    toggle.setAttribute('aria-controls', bar.id);
    toggle.addEventListener('click', () => {
      const next = bar.hidden;
      this.#show(next, toggle);
      writeSetting(storage, KEY_BAR_STORAGE_KEY, next ? 'shown' : 'hidden');
    });
  }

  /**
   * For xterm.js's onData: the latched modifiers apply to one typed key, and are then released.
   * Anything else (a paste, the terminal's replies to the program) goes as it is.
   */
  modify(data: string): string {
    if (!this.#mods.ctrl && !this.#mods.alt) return data;
    const modified = modifiedInput(data, this.#mods, this.target.applicationCursor());
    if (modified === null) return data;
    this.#latch(NO_MODIFIERS);
    return modified;
  }

  /** A watcher the owner has not let type gets the bar greyed out, its latches released. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    for (const button of this.#buttons) button.disabled = !enabled;
    if (!enabled) this.#latch(NO_MODIFIERS);
  }

  #show(shown: boolean, toggle: HTMLButtonElement | null): void {
    this.bar.hidden = !shown;
    toggle?.setAttribute('aria-pressed', String(shown));
  }

  #button(spec: KeySpec): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'term-key';
    button.textContent = spec.label;
    if (spec.name !== spec.label) button.setAttribute('aria-label', spec.name);
    const press = spec.press;
    button.dataset['key'] = typeof press === 'string' ? press : press.char;
    if (press === 'ctrl' || press === 'alt') {
      button.setAttribute('aria-pressed', 'false');
      this.#modifierButtons.set(press, button);
    }
    // The focus stays in the terminal's textarea: a tap that took it would drop the soft keyboard.
    button.addEventListener('pointerdown', (ev) => ev.preventDefault());
    button.addEventListener('click', () => this.#press(press));
    this.#buttons.push(button);
    return button;
  }

  #press(press: KeySpec['press']): void {
    if (!this.#enabled) return;
    if (press === 'ctrl' || press === 'alt') {
      this.#latch({ ...this.#mods, [press]: !this.#mods[press] });
      return;
    }
    const bytes = typeof press === 'string' ? barKeyBytes(press, this.#mods, this.target.applicationCursor()) : modifiedChar(press.char, this.#mods);
    // Released first: what is sent goes through modify() like any typed key.
    this.#latch(NO_MODIFIERS);
    this.target.send(bytes);
  }

  #latch(mods: LatchedModifiers): void {
    this.#mods = mods;
    for (const [modifier, button] of this.#modifierButtons) {
      button.setAttribute('aria-pressed', String(mods[modifier]));
      button.classList.toggle('is-latched', mods[modifier]);
    }
  }
}
