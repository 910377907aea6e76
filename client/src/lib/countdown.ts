/**
 * The access window countdown shared by the build, terminal and screen pages. It counts down from
 * the remaining time the server computed, measured with the monotonic clock: a wrong clock on the
 * user's machine cannot make the countdown lie. Each fresh server value restarts it.
 */
import { COUNTDOWN_TICK_MS } from '../../../shared/src/limits.js';
import { RELEASED_BY_PREFIX } from '../../../shared/src/protocol/close-codes.js';

/** Time to save work and log out cleanly. */
export const WINDOW_WARNING_MS = 2 * 60_000;
/** The last call: too short for more than saving. */
export const WINDOW_FINAL_WARNING_MS = 30_000;

/**
 * Where the window stands. Mirrored on `<body data-window>` so tests (and styles) can wait for a
 * phase instead of for time to pass.
 */
export type WindowPhase = 'open' | 'warning-2m' | 'warning-30s' | 'closed';
export type WindowWarning = Extract<WindowPhase, 'warning-2m' | 'warning-30s'>;

export const WINDOW_WARNING_TEXT: Readonly<Record<WindowWarning, string>> = {
  'warning-2m': 'The access window closes in 2 minutes. Save your work.',
  'warning-30s': 'The access window closes in 30 seconds.',
};
export const WINDOW_CLOSED_TEXT = 'The access window has closed.';

/** A release names who released the VM (issue #20); the window's other ends keep the one plain sentence. */
export function windowClosedText(reason: string | null): string {
  return reason?.startsWith(RELEASED_BY_PREFIX) ? `The access window has closed: ${reason}.` : WINDOW_CLOSED_TEXT;
}

export function isWindowWarning(phase: WindowPhase): phase is WindowWarning {
  return phase === 'warning-2m' || phase === 'warning-30s';
}

/** `null`: open with no close time yet (the build is still running). */
export function windowPhaseFor(remainingMs: number | null): WindowPhase {
  if (remainingMs === null) return 'open';
  if (remainingMs <= 0) return 'closed';
  if (remainingMs <= WINDOW_FINAL_WARNING_MS) return 'warning-30s';
  if (remainingMs <= WINDOW_WARNING_MS) return 'warning-2m';
  return 'open';
}

export function markWindowPhase(phase: WindowPhase): void {
  document.body.dataset['window'] = phase;
}

export interface WindowCountdownView {
  /** Every displayed second; `null` while the window has no close time. */
  render(remainingMs: number | null): void;
  /** Only when the phase changes, so a warning is announced once per threshold crossing. */
  phase(phase: WindowPhase, previous: WindowPhase): void;
}

export class WindowCountdown {
  /** On `performance.now()`'s clock; null while the window has no close time. */
  #deadline: number | null = null;
  #phase: WindowPhase = 'open';
  #timer: number | undefined;

  constructor(private readonly view: WindowCountdownView) {}

  get phase(): WindowPhase {
    return this.#phase;
  }

  /**
   * Restarts from a remaining time the server just computed. Ignored once closed: the gateway
   * does not reopen a window, so a late or stale answer must not bring the countdown back.
   */
  update(remainingMs: number | null): void {
    if (this.#phase === 'closed') return;
    window.clearTimeout(this.#timer);
    this.#deadline = remainingMs === null ? null : performance.now() + Math.max(0, remainingMs);
    this.#tick();
  }

  /** The server said the window is closed, whatever this countdown still shows. */
  close(): void {
    if (this.#phase === 'closed') return;
    window.clearTimeout(this.#timer);
    this.#deadline = performance.now();
    this.#tick();
  }

  readonly #tick = (): void => {
    const left = this.#deadline === null ? null : Math.max(0, this.#deadline - performance.now());
    this.view.render(left);
    const next = windowPhaseFor(left);
    if (next !== this.#phase) {
      const previous = this.#phase;
      this.#phase = next;
      this.view.phase(next, previous);
    }
    if (left === null || left <= 0) return;
    // Wake when the displayed second changes rather than drifting up to a full tick behind it;
    // the thresholds are whole seconds, so they are crossed on time too.
    this.#timer = window.setTimeout(this.#tick, left % COUNTDOWN_TICK_MS || COUNTDOWN_TICK_MS);
  };
}
