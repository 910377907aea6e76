/**
 * The terminal's Settings menu (issue #21): a button in the status bar that shows a small panel of
 * native controls under it. Each change applies at once; Esc closes the panel and gives the keyboard
 * back to the terminal, as does nothing else: a click elsewhere or Tab out of it only closes it.
 */
import {
  CURSOR_STYLES,
  FONT_CHOICES,
  FONT_SIZE_MAX_PX,
  FONT_SIZE_MIN_PX,
  THEMES,
  parseFontSize,
  type CursorStyle,
  type TerminalSettings,
  type TerminalTheme,
} from './settings.js';

const THEME_LABELS: Readonly<Record<TerminalTheme, string>> = { dark: 'Dark', light: 'Light' };
const CURSOR_LABELS: Readonly<Record<CursorStyle, string>> = { block: 'Block', underline: 'Underline', bar: 'Bar' };

export interface SettingsMenuTarget {
  readonly settings: TerminalSettings;
  /** The user chose `changed`: apply it (and remember it). */
  change(changed: Partial<TerminalSettings>): void;
  /** Gives the keyboard back to the terminal. */
  focusTerminal(): void;
}

export function wireSettingsMenu(button: HTMLButtonElement, target: SettingsMenuTarget): void {
  const panel = document.createElement('div');
  panel.id = 'term-settings';
  panel.className = 'term-settings';
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', 'Terminal settings');
  panel.hidden = true;

  const fontSize = document.createElement('input');
  fontSize.type = 'number';
  fontSize.min = String(FONT_SIZE_MIN_PX);
  fontSize.max = String(FONT_SIZE_MAX_PX);
  fontSize.step = '1';
  fontSize.inputMode = 'numeric';
  fontSize.addEventListener('input', () => {
    // A half-typed size ("1" on the way to "16") is not applied; the last valid one stays.
    const size = parseFontSize(fontSize.value);
    if (size !== null && size !== target.settings.fontSize) target.change({ fontSize: size });
  });
  // Leaving it with a size out of bounds shows the one that holds.
  fontSize.addEventListener('change', () => {
    if (parseFontSize(fontSize.value) === null) fontSize.value = String(target.settings.fontSize);
  });

  const theme = select(THEMES.map((t) => [t, THEME_LABELS[t]]), (value) => target.change({ theme: value as TerminalTheme }));
  const font = select(FONT_CHOICES.map((f) => [f.id, f.label]), (value) => target.change({ font: value }));
  const cursor = select(CURSOR_STYLES.map((c) => [c, CURSOR_LABELS[c]]), (value) => target.change({ cursorStyle: value as CursorStyle }));
  const blink = document.createElement('input');
  blink.type = 'checkbox';
  blink.addEventListener('change', () => target.change({ cursorBlink: blink.checked }));

  panel.append(
    field('Font size (px)', fontSize, 'term-setting-font-size'),
    field('Theme', theme, 'term-setting-theme'),
    field('Font', font, 'term-setting-font'),
    field('Cursor', cursor, 'term-setting-cursor'),
    field('Blinking cursor', blink, 'term-setting-blink'),
  );
  button.after(panel);
  button.setAttribute('aria-controls', panel.id);
  button.setAttribute('aria-expanded', 'false');

  const show = (): void => {
    const s = target.settings;
    fontSize.value = String(s.fontSize);
    theme.value = s.theme;
    font.value = s.font;
    cursor.value = s.cursorStyle;
    blink.checked = s.cursorBlink;
  };
  const isOpen = (): boolean => !panel.hidden;
  const setOpen = (open: boolean): void => {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  };

  button.addEventListener('click', () => {
    if (isOpen()) {
      setOpen(false);
      return;
    }
    show();
    setOpen(true);
    fontSize.focus();
  });
  const closeOnEscape = (ev: KeyboardEvent): void => {
    if (ev.key !== 'Escape' || !isOpen()) return;
    ev.preventDefault();
    // Full screen's keyboard lock must not see it either.
    ev.stopPropagation();
    setOpen(false);
    target.focusTerminal();
  };
  panel.addEventListener('keydown', closeOnEscape);
  button.addEventListener('keydown', closeOnEscape);
  // Where the pointer or the keyboard went decides where the focus is; the panel only gets out of the way.
  document.addEventListener('pointerdown', (ev) => {
    if (isOpen() && ev.target instanceof Node && !panel.contains(ev.target) && !button.contains(ev.target)) setOpen(false);
  });
  panel.addEventListener('focusout', (ev) => {
    const next = ev.relatedTarget;
    if (next instanceof Node && !panel.contains(next) && next !== button) setOpen(false);
  });
}

function select(options: readonly (readonly [string, string])[], changed: (value: string) => void): HTMLSelectElement {
  const el = document.createElement('select');
  for (const [value, label] of options) {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    el.append(option);
  }
  el.addEventListener('change', () => changed(el.value));
  return el;
}

function field(label: string, control: HTMLInputElement | HTMLSelectElement, id: string): HTMLLabelElement {
  control.id = id;
  const el = document.createElement('label');
  el.className = control instanceof HTMLInputElement && control.type === 'checkbox' ? 'term-settings-field term-settings-check' : 'term-settings-field';
  const text = document.createElement('span');
  text.textContent = label;
  if (el.classList.contains('term-settings-check')) el.append(control, text);
  else el.append(text, control);
  return el;
}
