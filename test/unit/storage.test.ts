import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSetting, scopedStorage, writeSetting, type SettingsStorage } from '../../client/src/lib/storage.js';

function memory(): SettingsStorage & { keys: () => string[] } {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), keys: () => [...m.keys()] };
}

test("two users of one browser keep their own choices; without a scope the key is the browser's", () => {
  const shared = memory();
  const ann = scopedStorage(shared, 'user-ann');
  const bob = scopedStorage(shared, 'user-bob');
  writeSetting(ann, 'porthole.terminal.settings', '{"fontSize":18}');
  assert.equal(readSetting(ann, 'porthole.terminal.settings'), '{"fontSize":18}');
  assert.equal(readSetting(bob, 'porthole.terminal.settings'), null);
  assert.deepEqual(shared.keys(), ['porthole.terminal.settings@user-ann']);
  writeSetting(scopedStorage(shared, null), 'porthole.replay.speed', '2');
  assert.equal(readSetting(shared, 'porthole.replay.speed'), '2');
});

test('a storage that throws is tolerated: the setting holds for the page only', () => {
  const broken: SettingsStorage = {
    getItem: () => {
      throw new Error('denied');
    },
    setItem: () => {
      throw new Error('quota');
    },
  };
  writeSetting(scopedStorage(broken, 'u'), 'k', 'v');
  assert.equal(readSetting(scopedStorage(broken, 'u'), 'k'), null);
});
