/**
 * How the screen shows the VM's desktop (issue #19): fitted to the window, or one VM pixel per
 * device pixel, which is what stays sharp on a Retina/HiDPI display. Remembered in the browser.
 */
import { readSetting, writeSetting } from '../lib/storage.js';

export type ViewMode = 'fit' | 'pixels';

export const DEFAULT_VIEW_MODE: ViewMode = 'fit';
/** One key per browser profile, like the Quality preset's. */
export const VIEW_MODE_STORAGE_KEY = 'porthole.screen.view';

export function isViewMode(value: unknown): value is ViewMode {
  return value === 'fit' || value === 'pixels';
}

export function storedViewMode(storage: Pick<Storage, 'getItem'> | null): ViewMode {
  const value = readSetting(storage, VIEW_MODE_STORAGE_KEY);
  return isViewMode(value) ? value : DEFAULT_VIEW_MODE;
}

export function rememberViewMode(storage: Pick<Storage, 'setItem'> | null, mode: ViewMode): void {
  writeSetting(storage, VIEW_MODE_STORAGE_KEY, mode);
}

/**
 * CSS pixels per VM pixel for "1:1 pixels": a CSS pixel is `devicePixelRatio` device pixels, so
 * a VM pixel must be 1/devicePixelRatio of one. A ratio the browser does not report sensibly is 1.
 */
export function oneToOneScale(devicePixelRatio: number): number {
  return Number.isFinite(devicePixelRatio) && devicePixelRatio > 0 ? 1 / devicePixelRatio : 1;
}

/** "1280×800" for the status bar; empty until the desktop has a size. */
export function describeResolution(width: number, height: number): string {
  return width > 0 && height > 0 ? `${width}×${height}` : '';
}
