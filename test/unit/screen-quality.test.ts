import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_QUALITY, QUALITY_PRESETS, QUALITY_STORAGE_KEY, rememberQuality, storedQuality } from '../../client/src/screen/quality.js';
import { AUTO_START } from '../../client/src/screen/auto-quality.js';

test('presets are noVNC levels 0–9, from sharpest to smallest', () => {
  const order = ['sharp', 'balanced', 'fast', 'smallest'] as const;
  for (const name of order) {
    const { quality, compression } = QUALITY_PRESETS[name];
    assert.ok(Number.isInteger(quality) && quality >= 0 && quality <= 9, name);
    assert.ok(Number.isInteger(compression) && compression >= 0 && compression <= 9, name);
  }
  for (let i = 1; i < order.length; i += 1) {
    const before = QUALITY_PRESETS[order[i - 1] ?? 'sharp'];
    const after = QUALITY_PRESETS[order[i] ?? 'sharp'];
    assert.ok(after.quality < before.quality && after.compression > before.compression, `${order[i]} trades more pixels for bytes`);
  }
  assert.equal(DEFAULT_QUALITY, 'auto', 'new users get Auto');
  assert.deepEqual([QUALITY_PRESETS[AUTO_START].quality, QUALITY_PRESETS[AUTO_START].compression], [6, 2], "Auto starts at noVNC's own default");
});

test('the remembered choice: a foreign or missing value, or storage that refuses, is the default', () => {
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
  assert.equal(storedQuality(storage), DEFAULT_QUALITY);
  rememberQuality(storage, 'fast');
  assert.equal(store.get(QUALITY_STORAGE_KEY), 'fast');
  assert.equal(storedQuality(storage), 'fast', 'a preset chosen before stays');
  rememberQuality(storage, 'auto');
  assert.equal(storedQuality(storage), 'auto');
  store.set(QUALITY_STORAGE_KEY, '__proto__');
  assert.equal(storedQuality(storage), DEFAULT_QUALITY);
  const refusing = {
    getItem: (): string | null => {
      throw new Error('SecurityError');
    },
    setItem: (): void => {
      throw new Error('QuotaExceededError');
    },
  };
  assert.equal(storedQuality(refusing), DEFAULT_QUALITY);
  assert.doesNotThrow(() => rememberQuality(refusing, 'sharp'));
  assert.equal(storedQuality(null), DEFAULT_QUALITY);
});
