/**
 * The terminal's Screen reader toggle (issue #21): xterm.js's screen-reader mode keeps an
 * accessibility tree of the rows and announces new output. Off by default (it costs rendering
 * time on floods); remembered in the browser.
 */
import type { Terminal } from '@xterm/xterm';
import { readSetting, writeSetting, type SettingsStorage } from '../lib/storage.js';

export const SCREEN_READER_STORAGE_KEY = 'porthole.terminal.screenReader';

export function wireScreenReader(term: Terminal, button: HTMLButtonElement, storage: SettingsStorage | null): void {
  const apply = (on: boolean): void => {
    term.options.screenReaderMode = on;
    button.setAttribute('aria-pressed', String(on));
  };
  apply(readSetting(storage, SCREEN_READER_STORAGE_KEY) === 'on');
  button.addEventListener('click', () => {
    const on = button.getAttribute('aria-pressed') !== 'true';
    apply(on);
    writeSetting(storage, SCREEN_READER_STORAGE_KEY, on ? 'on' : 'off');
  });
}
