import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTIFY_SETTING_KEY, WindowNotifier, type NotificationApi } from '../../client/src/session/window-notifier.js';

function fakes(permission: NotificationPermission, answer: NotificationPermission = permission): { api: NotificationApi; shown: string[]; asked: () => number } {
  const shown: string[] = [];
  let asked = 0;
  const Api = class {
    static permission: NotificationPermission = permission;
    static async requestPermission(): Promise<NotificationPermission> {
      asked += 1;
      Api.permission = answer;
      return answer;
    }
    constructor(title: string) {
      shown.push(title);
    }
  };
  return { api: Api, shown, asked: () => asked };
}

function fakeButton(): { button: HTMLButtonElement; click: () => Promise<void>; attrs: Map<string, string> } {
  const attrs = new Map<string, string>();
  let listener: (() => void) | null = null;
  const button = {
    hidden: true,
    textContent: '',
    title: '',
    setAttribute: (k: string, v: string) => attrs.set(k, v),
    addEventListener: (_type: string, l: () => void) => (listener = l),
  } as unknown as HTMLButtonElement;
  return { button, attrs, click: async () => { listener?.(); await new Promise((r) => setImmediate(r)); } };
}

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) } as Storage;
}

test('off until the user turns it on; then one notification at the first warning only', async () => {
  const { api, shown, asked } = fakes('default', 'granted');
  const { button, click, attrs } = fakeButton();
  const storage = memoryStorage();
  const notifier = new WindowNotifier({ button, api, storage, label: 'Build b-1' });
  assert.equal(button.hidden, false);
  notifier.phase('warning-2m');
  assert.deepEqual(shown, [], 'not without the user asking');
  await click();
  assert.equal(asked(), 1, 'permission asked on the click');
  assert.equal(attrs.get('aria-pressed'), 'true');
  assert.equal(storage.getItem(NOTIFY_SETTING_KEY), 'on');
  for (const phase of ['open', 'warning-2m', 'warning-30s', 'closed'] as const) notifier.phase(phase);
  assert.deepEqual(shown, ['Build b-1: access closes in 2 minutes']);
});

test('remembered across pages while permission holds; a refusal leaves it off', async () => {
  const storage = memoryStorage();
  storage.setItem(NOTIFY_SETTING_KEY, 'on');
  const granted = fakes('granted');
  new WindowNotifier({ button: fakeButton().button, api: granted.api, storage, label: 'B' }).phase('warning-2m');
  assert.equal(granted.shown.length, 1);

  const revoked = fakes('denied');
  new WindowNotifier({ button: fakeButton().button, api: revoked.api, storage, label: 'B' }).phase('warning-2m');
  assert.equal(revoked.shown.length, 0, 'permission withdrawn in the browser');

  const refused = fakes('default', 'denied');
  const { button, click, attrs } = fakeButton();
  const notifier = new WindowNotifier({ button, api: refused.api, storage: memoryStorage(), label: 'B' });
  await click();
  assert.equal(attrs.get('aria-pressed'), 'false');
  assert.match(button.title, /blocked/);
  notifier.phase('warning-2m');
  assert.equal(refused.shown.length, 0);
});

test('without the API (or in a frame) there is no button and nothing happens', () => {
  const { button } = fakeButton();
  const notifier = new WindowNotifier({ button, api: null, storage: null, label: 'B' });
  assert.equal(button.hidden, true);
  notifier.phase('warning-2m');
});
