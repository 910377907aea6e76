/**
 * The build list's "closes in" figures, counted down in the page from what the server rendered
 * (`data-remaining-ms`), once a second. At zero a row says "closed"; the server decides the rest on
 * the next load.
 */
import { formatRemaining } from '../../../shared/src/format.js';

const TICK_MS = 1000;

export function countDownRows(root: ParentNode = document): void {
  const started = performance.now();
  const rows = Array.from(root.querySelectorAll<HTMLElement>('[data-closes-in]')).map((element) => ({ element, remainingMs: Number(element.dataset['remainingMs']) }));
  const live = rows.filter((row) => Number.isFinite(row.remainingMs));
  if (live.length === 0) return;
  const timer = window.setInterval(() => {
    const elapsed = performance.now() - started;
    let running = 0;
    for (const row of live) {
      const left = row.remainingMs - elapsed;
      row.element.textContent = left > 0 ? formatRemaining(left) : 'closed';
      if (left > 0) running += 1;
    }
    if (running === 0) window.clearInterval(timer);
  }, TICK_MS);
}
