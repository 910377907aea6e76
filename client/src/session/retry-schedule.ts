/**
 * The clock and the timer behind session/backoff.ts: when a dropped session is tried again, and
 * at once when the browser says it is back online.
 */
import { decideRetry } from './backoff.js';

export class RetrySchedule {
  /**
   * Wall-clock time (Date.now) of the drop. Not a monotonic clock: those may stand still while a
   * laptop sleeps, and the gateway's hold runs out during the sleep all the same.
   */
  #droppedAt: number | null = null;
  #failures = 0;
  #timer: number | undefined;
  #listening = false;

  constructor(private readonly attempt: () => void) {}

  /** Between a drop and the session being taken up again, or given up. */
  get active(): boolean {
    return this.#droppedAt !== null;
  }

  /**
   * The session dropped, or an attempt to take it up failed in a way worth retrying: schedules the
   * next attempt. False when the hold has surely run out; the schedule has then stopped.
   */
  next(holdMs: number): boolean {
    const now = Date.now();
    this.#droppedAt ??= now;
    const decision = decideRetry(this.#failures, now - this.#droppedAt, holdMs);
    if (!decision.retry) {
      this.stop();
      return false;
    }
    this.#failures += 1;
    window.clearTimeout(this.#timer);
    this.#timer = window.setTimeout(this.#fire, decision.delayMs);
    if (!this.#listening) {
      window.addEventListener('online', this.#fire);
      this.#listening = true;
    }
    return true;
  }

  /** The session is back, ended for good, or the page starts over: forgets the drop. */
  stop(): void {
    window.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#listening) window.removeEventListener('online', this.#fire);
    this.#listening = false;
    this.#droppedAt = null;
    this.#failures = 0;
  }

  /** Only while waiting: an `online` event during an attempt leaves that attempt alone. */
  readonly #fire = (): void => {
    if (this.#timer === undefined) return;
    window.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.attempt();
  };
}
