/** The terminal's two colour themes (issue #21's Settings menu). */
import type { ITheme } from '@xterm/xterm';
import type { TerminalTheme } from './settings.js';

/**
 * Dark, with every ANSI colour at least 4.5:1 against the background except black, which programs
 * use as a background. terminal.css uses the same background around the terminal.
 */
const DARK: ITheme = {
  background: '#0b0f14',
  foreground: '#e6edf3',
  cursor: '#e6edf3',
  cursorAccent: '#0b0f14',
  selectionBackground: '#2f4f7a',
  selectionInactiveBackground: '#26364d',
  black: '#2d333b',
  red: '#ff7b72',
  green: '#56d364',
  yellow: '#e3b341',
  blue: '#6cb6ff',
  magenta: '#d2a8ff',
  cyan: '#39c5cf',
  white: '#c9d1d9',
  brightBlack: '#8b949e',
  brightRed: '#ffa198',
  brightGreen: '#7ee787',
  brightYellow: '#f2cc60',
  brightBlue: '#a5d6ff',
  brightMagenta: '#e2c5ff',
  brightCyan: '#56d4dd',
  brightWhite: '#f0f6fc',
};

/**
 * Light, the mirror of DARK: every ANSI colour at least 4.5:1 against white except white and
 * bright white, which programs use as a background there as black is in the dark theme.
 * terminal.css's light --term-bg is the same white.
 */
const LIGHT: ITheme = {
  background: '#ffffff',
  foreground: '#1f2328',
  cursor: '#1f2328',
  cursorAccent: '#ffffff',
  selectionBackground: '#b6d6ff',
  selectionInactiveBackground: '#d8e6f7',
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#7d4e00',
  blue: '#0550ae',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#8c959f',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#0969da',
  brightMagenta: '#6639ba',
  brightCyan: '#136061',
  brightWhite: '#d0d7de',
};

export const THEME_COLOURS: Readonly<Record<TerminalTheme, ITheme>> = { dark: DARK, light: LIGHT };
