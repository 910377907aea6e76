/**
 * Applies the terminal's settings to xterm.js while it runs: colours, font, cursor. A new font or
 * size changes how many cells fit, so the terminal is fitted again and the PTY follows (the
 * connection sends the new size on xterm's resize).
 */
import type { Terminal } from '@xterm/xterm';
import { fontFamilyOf, type TerminalSettings } from './settings.js';
import { THEME_COLOURS } from './themes.js';

export class TerminalLook {
  #settings: TerminalSettings;
  /** A dead terminal's cursor stays still whatever the blink setting says. */
  #dead = false;

  constructor(
    private readonly term: Terminal,
    private readonly host: HTMLElement,
    private readonly refit: () => void,
    initial: TerminalSettings,
  ) {
    this.#settings = initial;
    // terminal.css paints the area around the cells to match.
    host.dataset['theme'] = initial.theme;
  }

  get settings(): TerminalSettings {
    return this.#settings;
  }

  set(next: TerminalSettings): void {
    const before = this.#settings;
    this.#settings = next;
    const options = this.term.options;
    if (next.theme !== before.theme) {
      options.theme = THEME_COLOURS[next.theme];
      this.host.dataset['theme'] = next.theme;
    }
    if (next.cursorStyle !== before.cursorStyle) options.cursorStyle = next.cursorStyle;
    if (next.cursorBlink !== before.cursorBlink) this.#applyBlink();
    if (next.fontSize !== before.fontSize || next.font !== before.font) {
      options.fontSize = next.fontSize;
      options.fontFamily = fontFamilyOf(next.font);
      this.refit();
    }
  }

  setDead(dead: boolean): void {
    this.#dead = dead;
    this.#applyBlink();
  }

  #applyBlink(): void {
    this.term.options.cursorBlink = this.#settings.cursorBlink && !this.#dead;
  }
}
