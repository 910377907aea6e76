/**
 * The status bar of the terminal and screen pages (connection state, a detail such as the host key
 * or the desktop name, access window countdown, Reconnect) and the banner under it. Everything the
 * gateway or the VM says is written as text, never as markup.
 */
import { formatRemaining } from '../../../shared/src/format.js';
import {
  windowClosedText,
  WINDOW_WARNING_MS,
  WINDOW_WARNING_TEXT,
  WindowCountdown,
  isWindowWarning,
  markWindowPhase,
  type WindowPhase,
} from '../lib/countdown.js';
import type { ConnectionState } from './state.js';
import { requireElement } from './dom.js';
import type { TabTitle } from './tab-title.js';

const STATE_LABELS: Readonly<Record<ConnectionState, string>> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
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

/** For a page that cannot say which build to connect to: the status bar says so instead. */
export function showMissingBuild(detailId: string): void {
  const status = StatusBar.fromPage(detailId);
  status.setState('disconnected');
  status.showBanner('error', 'This page does not say which build to connect to.');
}

export class StatusBar {
  #bannerKind: BannerKind | null = null;
  /** Shown with showBanner: a state the page must clear, which hints and warnings do not replace. */
  #bannerIsState = false;
  #bannerIsWarning = false;
  #bannerTimer: number | undefined;
  /** The window has closed: the banner says so for good and Reconnect cannot help. */
  #final = false;
  #closedReason: string | null = null;
  readonly #window: WindowCountdown;
  readonly #windowPhaseHandlers: ((phase: WindowPhase) => void)[] = [];

  private constructor(
    private readonly state: HTMLElement,
    private readonly detail: HTMLElement,
    private readonly countdown: HTMLElement,
    private readonly reconnect: HTMLButtonElement,
    private readonly banner: HTMLElement,
    private readonly title: TabTitle | null,
  ) {
    this.#window = new WindowCountdown({
      render: (remainingMs) => this.#renderCountdown(remainingMs),
      phase: (phase) => this.#enterPhase(phase),
    });
    markWindowPhase('open');
  }

  /** The ids the terminal and screen pages share, with the detail element's own (#host-key, #desktop-name). */
  static fromPage(detailId: string, title: TabTitle | null = null): StatusBar {
    return new StatusBar(
      requireElement('conn-state', HTMLElement),
      requireElement(detailId, HTMLElement),
      requireElement('window-countdown', HTMLElement),
      requireElement('reconnect', HTMLButtonElement),
      requireElement('term-banner', HTMLElement),
      title,
    );
  }

  setState(state: ConnectionState): void {
    // Each retry reports its state again; rewriting the same words would make screen readers repeat them.
    if (this.state.dataset['state'] === state) return;
    this.state.dataset['state'] = state;
    this.state.textContent = STATE_LABELS[state];
  }

  setDetail(text: string): void {
    this.detail.textContent = text;
  }

  /** Who else is attached to the session (pages that have the element: the terminal's). */
  setParticipants(text: string): void {
    const element = document.getElementById('participants');
    if (!element) return;
    element.textContent = text;
    element.hidden = text === '';
  }

  /**
   * Restarts the countdown from a `remainingMs` the gateway just computed. `null`: the window
   * stays open while the build runs.
   */
  setWindow(remainingMs: number | null): void {
    this.#window.update(remainingMs);
  }

  /**
   * The gateway said the window has closed (close code 4000, a refused ticket, the window endpoint).
   * `reason`: the close frame's, so a release names who released the VM.
   */
  closeWindow(reason: string | null = null): void {
    // A pushed window may say "closed" a moment before the connection's close frame says why (a
    // release names who): the reason still reaches the banner, and a later word without one keeps it.
    if (this.#final && reason !== null && reason !== this.#closedReason) {
      this.#closedReason = reason;
      this.#show('error', windowClosedText(reason));
      return;
    }
    this.#closedReason = reason ?? this.#closedReason;
    this.#window.close();
  }

  get windowClosed(): boolean {
    return this.#final;
  }

  onWindowClosed(handler: () => void): void {
    this.onWindowPhase((phase) => {
      if (phase === 'closed') handler();
    });
  }

  /** Each change of the window's phase (open, the warnings, closed), as the banner sees it. */
  onWindowPhase(handler: (phase: WindowPhase) => void): void {
    this.#windowPhaseHandlers.push(handler);
  }

  /** Shows a state (a disconnect, an error), replacing whatever the banner said; ignored once the window has closed. */
  showBanner(kind: BannerKind, text: string, link?: BannerLink): void {
    if (this.#final) return;
    this.#show(kind, text, link);
    this.#bannerIsState = true;
  }

  /**
   * Shows a message unless a state or something more important is showing; with `forMs`, only
   * for that long (a hint, not a state). Tells whether it is showing.
   */
  offerBanner(kind: BannerKind, text: string, forMs?: number): boolean {
    if (this.#final || this.#bannerIsState) return false;
    if (this.#bannerKind !== null && BANNER_RANK[this.#bannerKind] > BANNER_RANK[kind]) return false;
    this.#show(kind, text);
    if (forMs !== undefined) this.#bannerTimer = window.setTimeout(() => this.clearBanner(), forMs);
    return true;
  }

  /** A window warning still in force comes back: it was only hidden by what is being cleared. */
  clearBanner(): void {
    if (this.#final) return;
    window.clearTimeout(this.#bannerTimer);
    this.#bannerKind = null;
    this.#bannerIsState = false;
    this.#bannerIsWarning = false;
    this.banner.hidden = true;
    this.banner.replaceChildren();
    this.#offerWarning(this.#window.phase);
  }

  showReconnect(visible: boolean): void {
    this.reconnect.hidden = !visible || this.#final;
  }

  onReconnect(handler: () => void): void {
    this.reconnect.addEventListener('click', handler);
  }

  /** Reconnect is offered (the session ended in a way starting again can help). */
  canReconnect(): boolean {
    return !this.reconnect.hidden;
  }

  /** As if Reconnect were pressed: a dead terminal's Enter. */
  pressReconnect(): void {
    if (this.canReconnect()) this.reconnect.click();
  }

  #show(kind: BannerKind, text: string, link?: BannerLink): void {
    window.clearTimeout(this.#bannerTimer);
    this.#bannerKind = kind;
    this.#bannerIsState = false;
    this.#bannerIsWarning = false;
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

  #renderCountdown(remainingMs: number | null): void {
    const el = this.countdown;
    el.classList.toggle('is-urgent', remainingMs !== null && remainingMs <= WINDOW_WARNING_MS);
    if (remainingMs === null) el.textContent = 'Open while the build runs';
    else if (remainingMs <= 0) el.textContent = 'Access window closed';
    else el.textContent = `Closes in ${formatRemaining(remainingMs)}`;
    this.title?.setCountdown(remainingMs !== null && remainingMs > 0 ? formatRemaining(remainingMs) : null);
  }

  #enterPhase(phase: WindowPhase): void {
    markWindowPhase(phase);
    if (phase === 'closed') {
      this.#show('error', windowClosedText(this.#closedReason));
      this.#final = true;
      this.reconnect.hidden = true;
    } else {
      // Back to open only if the gateway ever moves the close time out; its warning no longer holds.
      if (phase === 'open' && this.#bannerIsWarning) this.clearBanner();
      this.#offerWarning(phase);
    }
    for (const handler of this.#windowPhaseHandlers) handler(phase);
  }

  #offerWarning(phase: WindowPhase): void {
    if (!isWindowWarning(phase)) return;
    if (this.offerBanner('urgent', WINDOW_WARNING_TEXT[phase])) this.#bannerIsWarning = true;
  }
}
