/**
 * The terminal's settings (issue #21): font size, theme, font, cursor. Chosen in the page's
 * Settings menu and remembered in the browser, or set by an embedding dashboard's attributes
 * (docs/embedding.md), which win over the remembered choice. Every value from storage or from a
 * dashboard is validated here: a size within bounds, a theme, font or cursor from a fixed list, so
 * nothing a dashboard writes becomes CSS or markup. No DOM: the unit tests import it.
 */
import type { EmbedTerminalSettingName } from '../../../shared/src/embed.js';

export type TerminalTheme = 'dark' | 'light';
export type CursorStyle = 'block' | 'underline' | 'bar';

/** A few monospace fonts, by id: the id is what storage and dashboards name, never a CSS value. */
export interface FontChoice {
  readonly id: string;
  readonly label: string;
  readonly family: string;
}

/** Whatever the platform's own monospace is, then the common ones, so every OS gets a good one. */
const SYSTEM_STACK = 'ui-monospace, "SF Mono", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace';

export const FONT_CHOICES: readonly FontChoice[] = [
  { id: 'system', label: 'System monospace', family: SYSTEM_STACK },
  { id: 'dejavu-sans-mono', label: 'DejaVu Sans Mono', family: `"DejaVu Sans Mono", ${SYSTEM_STACK}` },
  { id: 'liberation-mono', label: 'Liberation Mono', family: `"Liberation Mono", ${SYSTEM_STACK}` },
  { id: 'menlo', label: 'Menlo (macOS)', family: `Menlo, Monaco, ${SYSTEM_STACK}` },
  { id: 'consolas', label: 'Consolas (Windows)', family: `Consolas, "Cascadia Mono", ${SYSTEM_STACK}` },
  { id: 'courier', label: 'Courier', family: '"Courier New", Courier, monospace' },
];

export const THEMES: readonly TerminalTheme[] = ['dark', 'light'];
export const CURSOR_STYLES: readonly CursorStyle[] = ['block', 'underline', 'bar'];

/** Below this a cell is too small to read on any screen; the browser's zoom goes further if needed. */
export const FONT_SIZE_MIN_PX = 8;
/** Above this a phone shows fewer than ~20 columns, too few for a shell prompt and a command. */
export const FONT_SIZE_MAX_PX = 32;

export interface TerminalSettings {
  readonly fontSize: number;
  readonly theme: TerminalTheme;
  /** An id from FONT_CHOICES. */
  readonly font: string;
  readonly cursorStyle: CursorStyle;
  readonly cursorBlink: boolean;
}

export const DEFAULT_SETTINGS: TerminalSettings = {
  // Readable on laptop and desktop screens alike; the browser's zoom scales it further.
  fontSize: 14,
  theme: 'dark',
  font: 'system',
  cursorStyle: 'block',
  cursorBlink: true,
};

export const SETTINGS_STORAGE_KEY = 'porthole.terminal.settings';

export function fontFamilyOf(fontId: string): string {
  return (FONT_CHOICES.find((f) => f.id === fontId) ?? FONT_CHOICES[0]!).family;
}

/** A whole number of pixels within bounds, or null: the size a dashboard or storage gave is not one. */
export function parseFontSize(value: unknown): number | null {
  const n = typeof value === 'string' && /^\s*\d{1,3}\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) return null;
  return n >= FONT_SIZE_MIN_PX && n <= FONT_SIZE_MAX_PX ? n : null;
}

function oneOf<T extends string>(list: readonly T[], value: unknown): T | null {
  return typeof value === 'string' && (list as readonly string[]).includes(value) ? (value as T) : null;
}

function parseFont(value: unknown): string | null {
  return typeof value === 'string' && FONT_CHOICES.some((f) => f.id === value) ? value : null;
}

function parseBlink(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'on') return true;
  if (value === 'false' || value === 'off') return false;
  return null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The valid fields of what was remembered (JSON written by an earlier page, maybe of another
 * version): a field that is missing or wrong is left out, so the default or the menu decides it.
 */
export function parseStoredSettings(json: string | null): Partial<TerminalSettings> {
  if (json === null) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  return pickValid({
    fontSize: parseFontSize(r['fontSize']),
    theme: oneOf(THEMES, r['theme']),
    font: parseFont(r['font']),
    cursorStyle: oneOf(CURSOR_STYLES, r['cursorStyle']),
    cursorBlink: parseBlink(r['cursorBlink']),
  });
}

/** What a dashboard set through the SDK's attributes (the embed page's fragment); invalid values are ignored. */
export function parseEmbedSettings(params: URLSearchParams): Partial<TerminalSettings> {
  const get = (name: EmbedTerminalSettingName): string | null => params.get(name);
  return pickValid({
    fontSize: parseFontSize(get('font-size')),
    theme: oneOf(THEMES, get('theme')),
    font: parseFont(get('font-family')),
    cursorStyle: oneOf(CURSOR_STYLES, get('cursor-style')),
    cursorBlink: parseBlink(get('cursor-blink')),
  });
}

function pickValid(fields: { readonly [K in keyof TerminalSettings]: TerminalSettings[K] | null }): Partial<TerminalSettings> {
  const out: Partial<Mutable<TerminalSettings>> = {};
  for (const [key, value] of Object.entries(fields) as [keyof TerminalSettings, TerminalSettings[keyof TerminalSettings] | null][]) {
    if (value !== null) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Defaults, then what the user chose in this browser, then what the page was told (a dashboard's attributes). */
export function resolveSettings(stored: Partial<TerminalSettings>, imposed: Partial<TerminalSettings>): TerminalSettings {
  return { ...DEFAULT_SETTINGS, ...stored, ...imposed };
}
