/**
 * The screen's Quality control (issue #19): named presets of noVNC's JPEG quality and zlib
 * compression levels, which noVNC sends as RFB pseudo-encodings (-32 + quality, -256 +
 * compression) so the VM's server trades pixels for bandwidth, or Auto, which moves between them
 * as the link allows (auto-quality.ts). Remembered in the browser.
 */
import { readSetting, writeSetting } from '../lib/storage.js';

export type QualityPreset = 'sharp' | 'balanced' | 'fast' | 'smallest';
/** What the select offers: a fixed preset, or `auto`. */
export type QualityChoice = QualityPreset | 'auto';

export interface QualityLevels {
  /** noVNC `qualityLevel`, 0–9: JPEG quality of Tight rectangles. */
  readonly quality: number;
  /** noVNC `compressionLevel`, 0–9: zlib effort (more CPU on the VM, fewer bytes). */
  readonly compression: number;
}

export const QUALITY_PRESETS: Readonly<Record<QualityPreset, QualityLevels & { readonly label: string }>> = {
  // Near-lossless, light compression: a LAN or a fast office link.
  sharp: { quality: 9, compression: 1, label: 'Sharp' },
  // noVNC's own default: a 1080p desktop stays responsive over an ordinary office link.
  balanced: { quality: 6, compression: 2, label: 'Balanced' },
  // Home Wi-Fi, a VPN, another continent.
  fast: { quality: 3, compression: 6, label: 'Fast' },
  // A phone's tether or a congested link: blocky, but it moves.
  smallest: { quality: 0, compression: 9, label: 'Smallest' },
};

/** New users get Auto; a preset someone chose before stays theirs. */
export const DEFAULT_QUALITY: QualityChoice = 'auto';
/** One key per browser profile: the person at it, as the page cannot tell users apart without a cookie (embeds). */
export const QUALITY_STORAGE_KEY = 'porthole.screen.quality';

export function isQualityPreset(value: unknown): value is QualityPreset {
  return typeof value === 'string' && Object.hasOwn(QUALITY_PRESETS, value);
}

export function isQualityChoice(value: unknown): value is QualityChoice {
  return value === 'auto' || isQualityPreset(value);
}

/** The remembered choice; a missing or foreign value, or storage that refuses, is the default. */
export function storedQuality(storage: Pick<Storage, 'getItem'> | null): QualityChoice {
  const value = readSetting(storage, QUALITY_STORAGE_KEY);
  return isQualityChoice(value) ? value : DEFAULT_QUALITY;
}

export function rememberQuality(storage: Pick<Storage, 'setItem'> | null, choice: QualityChoice): void {
  writeSetting(storage, QUALITY_STORAGE_KEY, choice);
}
