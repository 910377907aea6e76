/**
 * Retention sweeps (audit rows, session recordings): the cut-off for a retention in days, and a
 * sweep run at start-up and then periodically, never two at once.
 */
const MS_PER_DAY = 24 * 60 * 60 * 1000;

export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * MS_PER_DAY);
}

/** Runs `sweep` now and then every `intervalMs` (skipping a tick while one runs); returns a function that stops it. */
export function startPeriodicSweep(sweep: () => Promise<unknown>, intervalMs: number): () => void {
  let running: Promise<unknown> | null = null;
  const tick = (): void => {
    running ??= sweep().finally(() => {
      running = null;
    });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
