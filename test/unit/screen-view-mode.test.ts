import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_VIEW_MODE, describeResolution, oneToOneScale, rememberViewMode, storedViewMode, VIEW_MODE_STORAGE_KEY } from '../../client/src/screen/view-mode.js';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return { values, getItem: (key) => values.get(key) ?? null, setItem: (key, value) => void values.set(key, value) };
}

test('1:1 pixels is one VM pixel per device pixel: 1/devicePixelRatio CSS pixels', () => {
  assert.equal(oneToOneScale(1), 1);
  assert.equal(oneToOneScale(2), 0.5);
  assert.equal(oneToOneScale(1.25), 0.8);
  for (const odd of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(oneToOneScale(odd), 1, String(odd));
});

test('the view mode is remembered; a foreign or missing value, or storage that refuses, is Fit', () => {
  const storage = memoryStorage();
  assert.equal(DEFAULT_VIEW_MODE, 'fit');
  assert.equal(storedViewMode(storage), 'fit');
  rememberViewMode(storage, 'pixels');
  assert.equal(storage.values.get(VIEW_MODE_STORAGE_KEY), 'pixels');
  assert.equal(storedViewMode(storage), 'pixels');
  storage.values.set(VIEW_MODE_STORAGE_KEY, 'zoom');
  assert.equal(storedViewMode(storage), 'fit');
  const refusing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
  assert.equal(storedViewMode(refusing), 'fit');
  assert.doesNotThrow(() => rememberViewMode(refusing, 'pixels'));
  assert.equal(storedViewMode(null), 'fit');
});

test('the resolution reads "width×height", and nothing before the desktop has a size', () => {
  assert.equal(describeResolution(1280, 800), '1280×800');
  assert.equal(describeResolution(0, 0), '');
});
