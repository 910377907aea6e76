/**
 * The status bar (connection state, a detail such as the desktop name, access window countdown,
 * Reconnect) and the banner under it. Everything the gateway or the VM says is written as text,
 * never as markup.
 *
 * Behaves as terminal/status.ts's StatusBar, whose constructor is private and whose page lookup
 * is fixed to #host-key; this one takes the detail element's id, so the terminal could use it
 * with fromPage('host-key').
 */
import { COUNTDOWN_TICK_MS } from '../../../shared/src/limits.js';
import { formatRemaining } from '../../../shared/src/format.js';
import type { ConnectionState } from '../terminal/connection.js';
import { requireElement } from '../terminal/dom.js';
import type { BannerKind, BannerLink } from '../terminal/status.js';

/** Under two minutes is when saving work becomes urgent; matches the build page's countdown. */
const WINDOW_URGENT_MS = 2 * 60_000;

const STATE_LABELS: Readonly<Record<ConnectionState, string>> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Disconnected',
};

/** Ordered by importance: a lesser message never hides a greater one. */
const BANNER_RANK: Readonly<Record<BannerKind, number>> = { info: 0, urgent: 1, error: 2 };
const BANNER_CLASSES: Readonly<Record<BannerKind, string | null>> = { info: null, urgent: 'is-urgent', error: 'is-error' };

export class StatusBar {
  #bannerKind: BannerKind | null = null;
  #bannerTimer: number | undefined;
  #countdownTimer: number | undefined;
  #urgentWarned = false;

  constructor(
    private readonly state: HTMLElement,
    private readonly detail: HTMLElement,
    private readonly countdown: HTMLElement,
    private readonly reconnect: HTMLButtonElement,
    private readonly banner: HTMLElement,
  ) {}

  /** The ids the terminal and screen pages share, with the detail element's own. */
  static fromPage(detailId: string): StatusBar {
    return new StatusBar(
      requireElement('conn-state', HTMLElement),
      requireElement(detailId, HTMLElement),
      requireElement('window-countdown', HTMLElement),
      requireElement('reconnect', HTMLButtonElement),
      requireElement('term-banner', HTMLElement),
    );
  }

  setState(state: ConnectionState): void {
    this.state.dataset['state'] = state;
    this.state.textContent = STATE_LABELS[state];
  }

  setDetail(text: string): void {
    this.detail.textContent = text;
  }

  /**
   * Counts down on the monotonic clock, so a wrong clock on this machine cannot make the
   * countdown lie. `null`: the window stays open while the build runs.
   */
  setWindow(remainingMs: number | null): void {
    window.clearTimeout(this.#countdownTimer);
    const el = this.countdown;
    if (remainingMs === null) {
      el.textContent = 'Open while the build runs';
      el.classList.remove('is-urgent');
      this.#urgentWarned = false;
      return;
    }
    const deadline = performance.now() + remainingMs;
    const tick = (): void => {
      const left = deadline - performance.now();
      el.classList.toggle('is-urgent', left <= WINDOW_URGENT_MS);
      if (left <= 0) {
        el.textContent = 'Access window closed';
        return;
      }
      el.textContent = `Closes in ${formatRemaining(left)}`;
      if (left > WINDOW_URGENT_MS) {
        this.#urgentWarned = false;
      } else if (!this.#urgentWarned) {
        this.#urgentWarned = true;
        this.offerBanner('urgent', 'The access window of this build closes in less than 2 minutes. Save your work.');
      }
      // Wake when the displayed second changes rather than drifting a full tick behind it.
      this.#countdownTimer = window.setTimeout(tick, left % COUNTDOWN_TICK_MS || COUNTDOWN_TICK_MS);
    };
    tick();
  }

  /** Shows a message, replacing whatever the banner said. */
  showBanner(kind: BannerKind, text: string, link?: BannerLink): void {
    window.clearTimeout(this.#bannerTimer);
    this.#bannerKind = kind;
    const banner = this.banner;
    banner.replaceChildren(text);
    if (link) {
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.label;
      banner.append(' ', a);
    }
    for (const cls of Object.values(BANNER_CLASSES)) if (cls) banner.classList.remove(cls);
    const cls = BANNER_CLASSES[kind];
    if (cls) banner.classList.add(cls);
    banner.hidden = false;
  }

  /**
   * Shows a message unless something more important is showing; with `forMs`, only for that
   * long (a hint, not a state).
   */
  offerBanner(kind: BannerKind, text: string, forMs?: number): void {
    if (this.#bannerKind !== null && BANNER_RANK[this.#bannerKind] > BANNER_RANK[kind]) return;
    this.showBanner(kind, text);
    if (forMs !== undefined) this.#bannerTimer = window.setTimeout(() => this.clearBanner(), forMs);
  }

  clearBanner(): void {
    window.clearTimeout(this.#bannerTimer);
    this.#bannerKind = null;
    this.banner.hidden = true;
    this.banner.replaceChildren();
  }

  showReconnect(visible: boolean): void {
    this.reconnect.hidden = !visible;
  }

  onReconnect(handler: () => void): void {
    this.reconnect.addEventListener('click', handler);
  }
}
