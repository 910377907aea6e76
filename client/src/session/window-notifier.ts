/**
 * An optional browser notification at the access window's first warning (issue #21), for a user
 * who is in another tab or app when the banner appears. Off until the user turns it on: the
 * browser asks for permission on that click, never on page load. Remembered in the browser.
 */
import type { WindowPhase } from '../lib/countdown.js';
import { readSetting, writeSetting, type SettingsStorage } from '../lib/storage.js';

export const NOTIFY_SETTING_KEY = 'porthole.window.notify';
/** One notification per page and window: a later one replaces it rather than piling up. */
const NOTIFICATION_TAG = 'porthole-window';

/** The browser's Notification API, as far as this needs it (absent on some phones and in insecure contexts). */
export interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): unknown;
}

export interface WindowNotifierDeps {
  readonly button: HTMLButtonElement | null;
  readonly api: NotificationApi | null;
  readonly storage: SettingsStorage | null;
  /** Names the build in the notification ("Build 1234 · my-app"). */
  readonly label: string;
}

export class WindowNotifier {
  #on = false;

  constructor(private readonly deps: WindowNotifierDeps) {
    const { button, api } = deps;
    if (!button || !api) return;
    this.#on = readSetting(deps.storage, NOTIFY_SETTING_KEY) === 'on' && api.permission === 'granted';
    button.hidden = false;
    this.#render();
    button.addEventListener('click', () => void this.#toggle(api));
  }

  /** Called on each window phase change: notifies once, at the first warning. */
  phase(phase: WindowPhase): void {
    const { api } = this.deps;
    if (phase !== 'warning-2m' || !this.#on || !api || api.permission !== 'granted') return;
    new api(`${this.deps.label}: access closes in 2 minutes`, {
      body: 'Save your work: the terminal and screen disconnect when the access window closes.',
      tag: NOTIFICATION_TAG,
    });
  }

  async #toggle(api: NotificationApi): Promise<void> {
    if (this.#on) {
      this.#set(false);
      return;
    }
    const permission = api.permission === 'granted' ? 'granted' : await api.requestPermission();
    this.#set(permission === 'granted');
    if (permission !== 'granted' && this.deps.button) this.deps.button.title = 'Notifications are blocked for this site in the browser settings';
  }

  #set(on: boolean): void {
    this.#on = on;
    writeSetting(this.deps.storage, NOTIFY_SETTING_KEY, on ? 'on' : 'off');
    this.#render();
  }

  #render(): void {
    const { button } = this.deps;
    if (!button) return;
    button.setAttribute('aria-pressed', String(this.#on));
    button.textContent = this.#on ? 'Notifying' : 'Notify me';
  }
}

/** The page's Notification API, or null where there is none. */
export function browserNotifications(): NotificationApi | null {
  return typeof window !== 'undefined' && 'Notification' in window ? window.Notification : null;
}
