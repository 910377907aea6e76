/**
 * Counts down the access window from the remaining time the server computed, measured with the
 * monotonic clock: a wrong clock on the user's machine cannot make the countdown lie.
 */
import { COUNTDOWN_TICK_MS } from '../../../shared/src/limits.js';
import { formatRemaining } from '../../../shared/src/format.js';

export function startCountdowns(onClosed: () => void, root: ParentNode = document): void {
  const started = performance.now();
  const countdowns = [...root.querySelectorAll<HTMLElement>('[data-countdown]')].map((el) => ({
    el,
    remainingMs: Number(el.dataset['remainingMs'] ?? '0'),
  }));
  if (countdowns.length === 0) return;
  let closedReported = false;
  const tick = (): void => {
    const elapsed = performance.now() - started;
    let anyOpen = false;
    for (const c of countdowns) {
      const left = c.remainingMs - elapsed;
      c.el.textContent = left > 0 ? formatRemaining(left) : 'closed';
      c.el.classList.toggle('countdown-urgent', left > 0 && left <= 2 * 60_000);
      if (left > 0) anyOpen = true;
    }
    if (!anyOpen && !closedReported) {
      closedReported = true;
      onClosed();
    }
    if (anyOpen) window.setTimeout(tick, COUNTDOWN_TICK_MS - (elapsed % COUNTDOWN_TICK_MS));
  };
  tick();
}
