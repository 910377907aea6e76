/**
 * Settings remembered in the browser (localStorage). Every call tolerates a storage the page may
 * not use (a sandboxed frame, privacy settings, a full quota): the setting then holds for the page.
 */
export type SettingsStorage = Pick<Storage, 'getItem' | 'setItem'>;

/**
 * The browser's localStorage for this page's user, or null where the page may not use it. Pages
 * that know who is signed in say so in `<meta name="porthole-settings-scope">`; each key is then
 * the user's own, so two people sharing a browser keep their own choices. Embedded pages do not
 * know the user when they load (and frames are often denied storage): theirs are per browser.
 */
export function browserStorage(): SettingsStorage | null {
  let storage: Storage;
  try {
    storage = window.localStorage;
  } catch {
    return null;
  }
  return scopedStorage(storage, settingsScope());
}

/** Keys of `storage` as `key@scope`; `storage` itself without a scope. */
export function scopedStorage(storage: SettingsStorage, scope: string | null): SettingsStorage {
  if (scope === null) return storage;
  return {
    getItem: (key) => storage.getItem(`${key}@${scope}`),
    setItem: (key, value) => storage.setItem(`${key}@${scope}`, value),
  };
}

function settingsScope(): string | null {
  const content = document.querySelector<HTMLMetaElement>('meta[name="porthole-settings-scope"]')?.content ?? '';
  return content === '' ? null : content;
}

export function readSetting(storage: Pick<Storage, 'getItem'> | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

export function writeSetting(storage: Pick<Storage, 'setItem'> | null, key: string, value: string): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Not remembered; the choice still holds for this page.
  }
}
