/**
 * The terminal's settings as this browser remembers them (one JSON entry in localStorage, beside
 * the screen-reader choice). Only what the user chose is written: a value a dashboard imposed on
 * an embedded terminal is not the user's choice and is not remembered.
 */
import { readSetting, writeSetting, type SettingsStorage } from '../lib/storage.js';
import { SETTINGS_STORAGE_KEY, parseStoredSettings, type TerminalSettings } from './settings.js';

export function rememberedSettings(storage: SettingsStorage | null): Partial<TerminalSettings> {
  return parseStoredSettings(readSetting(storage, SETTINGS_STORAGE_KEY));
}

/** Adds `changed` to what is remembered; another tab's choices of other settings stay. */
export function rememberSettings(storage: SettingsStorage | null, changed: Partial<TerminalSettings>): void {
  writeSetting(storage, SETTINGS_STORAGE_KEY, JSON.stringify({ ...rememberedSettings(storage), ...changed }));
}
