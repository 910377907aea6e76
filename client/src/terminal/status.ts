/**
 * The status bar (connection state, host key, access window countdown, Reconnect) and the banner
 * under it. Everything the gateway or the VM says is written as text, never as markup.
 */
import { COUNTDOWN_TICK_MS } from '../../../shared/src/limits.js';
import { CloseCode, describeClose } from '../../../shared/src/protocol/close-codes.js';
import { formatRemaining } from '../../../shared/src/format.js';
import { ABNORMAL_CLOSURE_CODE, type ConnectionState, type Disconnect } from './connection.js';
import { requireElement } from './dom.js';

/** Under two minutes is when saving work becomes urgent; matches the build page's countdown. */
const WINDOW_URGENT_MS = 2 * 60_000;

const STATE_LABELS: Readonly<Record<ConnectionState, string>> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Disconnected',
};

/** Ordered by importance: a lesser message never hides a greater one. */
export type BannerKind = 'info' | 'urgent' | 'error';
const BANNER_RANK: Readonly<Record<BannerKind, number>> = { info: 0, urgent: 1, error: 2 };
const BANNER_CLASSES: Readonly<Record<BannerKind, string | null>> = { info: null, urgent: 'is-urgent', error: 'is-error' };

export interface BannerLink {
  readonly href: string;
  readonly label: string;
}

/** Close codes that end a session the ordinary way, shown as information rather than an error. */
const ORDINARY_END_CODES: ReadonlySet<number> = new Set([CloseCode.normal, CloseCode.goingAway, CloseCode.idleTimeout, CloseCode.sessionEnded]);

export interface DisconnectNotice {
  readonly kind: BannerKind;
  readonly text: string;
  readonly signIn: boolean;
  readonly reconnect: boolean;
}

export function describeDisconnect(why: Disconnect): DisconnectNotice {
  switch (why.kind) {
    case 'refused':
      return { kind: 'error', text: why.message, signIn: why.status === 401 || why.code === 'unauthenticated', reconnect: !why.final };
    case 'closed': {
      let text: string;
      if (why.code === ABNORMAL_CLOSURE_CODE) {
        text = why.opened
          ? 'The connection to the gateway was lost.'
          : 'Could not open the terminal connection. The gateway may be unreachable or the ticket may have expired.';
      } else {
        text = describeClose(why.code, why.reason);
      }
      if (why.serverError && why.serverError !== text) text = `${text} ${why.serverError}`;
      return { kind: ORDINARY_END_CODES.has(why.code) ? 'info' : 'error', text, signIn: false, reconnect: !why.final };
    }
  }
}

export class StatusBar {
  #bannerKind: BannerKind | null = null;
  #bannerTimer: number | undefined;
  #countdownTimer: number | undefined;
  #urgentWarned = false;

  private constructor(
    private readonly state: HTMLElement,
    private readonly hostKey: HTMLElement,
    private readonly countdown: HTMLElement,
    private readonly reconnect: HTMLButtonElement,
    private readonly banner: HTMLElement,
  ) {}

  static fromPage(): StatusBar {
    return new StatusBar(
      requireElement('conn-state', HTMLElement),
      requireElement('host-key', HTMLElement),
      requireElement('window-countdown', HTMLElement),
      requireElement('reconnect', HTMLButtonElement),
      requireElement('term-banner', HTMLElement),
    );
  }

  setState(state: ConnectionState): void {
    this.state.dataset['state'] = state;
    this.state.textContent = STATE_LABELS[state];
  }

  setHostKey(hostKey: string): void {
    this.hostKey.textContent = hostKey;
  }

  /**
   * Counts down from the gateway's `remainingMs` on the monotonic clock, so a wrong clock on this
   * machine cannot make the countdown lie. `null`: the window stays open while the build runs.
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
