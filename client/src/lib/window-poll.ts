/**
 * Keeps a page without a push channel (the build page; the screen page, whose stream is raw RFB)
 * up to date with its build's access window by asking the gateway.
 */
import type { WindowView } from '../../../shared/src/api.js';
import { ApiError, getJson } from './api.js';

/** Often enough that a finished or revoked build shows within seconds; cheap for the gateway. */
export const WINDOW_POLL_INTERVAL_MS = 5000;

/** Asking again cannot help: signed out, no longer a member, or not allowed. */
const FINAL_POLL_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

/** Fetches the window's JSON; fails with an ApiError carrying the HTTP status. */
export type WindowSource = () => Promise<unknown>;

/** The signed-in user's pages: the session cookie says who asks. */
export function sessionWindowSource(buildId: string): WindowSource {
  return () => getJson<unknown>(`/api/v1/builds/${encodeURIComponent(buildId)}/window`);
}

export interface WindowPoll {
  stop(): void;
}

/**
 * Calls `onWindow` with each answer, every WINDOW_POLL_INTERVAL_MS while the page is visible: a
 * hidden page shows no one a countdown, and the first look after it is shown again asks at once.
 * Transient failures (network, 5xx) are retried at the same pace; the page's countdown runs on from
 * the last answer meanwhile.
 */
export function pollWindow(source: WindowSource, onWindow: (view: WindowView) => void): WindowPoll {
  let stopped = false;
  let inFlight = false;
  let timer: number | undefined;

  const visible = (): boolean => document.visibilityState === 'visible';

  const schedule = (): void => {
    window.clearTimeout(timer);
    if (!stopped && visible()) timer = window.setTimeout(() => void ask(), WINDOW_POLL_INTERVAL_MS);
  };

  const ask = async (): Promise<void> => {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      const view = parseWindowView(await source());
      if (!stopped && view) onWindow(view);
    } catch (error) {
      if (error instanceof ApiError && FINAL_POLL_STATUSES.has(error.status)) stop();
    } finally {
      inFlight = false;
    }
    schedule();
  };

  const onVisibility = (): void => {
    if (stopped) return;
    if (!visible()) {
      window.clearTimeout(timer);
      return;
    }
    // The window may have changed while nobody looked; an answer in flight schedules the next.
    void ask();
  };

  function stop(): void {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  }

  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  return { stop };
}

/** A proxy's error page or a newer gateway's answer is ignored rather than trusted. */
export function parseWindowView(value: unknown): WindowView | null {
  if (typeof value !== 'object' || value === null) return null;
  const body = value as Record<string, unknown>;
  const { closesAt, remainingMs, open } = body;
  if (closesAt !== null && typeof closesAt !== 'string') return null;
  if (remainingMs !== null && !(typeof remainingMs === 'number' && Number.isFinite(remainingMs))) return null;
  if (typeof open !== 'boolean') return null;
  // Absent from an older gateway's answer: no Extend then, rather than no countdown.
  const step = body['extendStepMinutes'];
  const extendStepMinutes = typeof step === 'number' && Number.isInteger(step) && step > 0 ? step : null;
  const canExtend = extendStepMinutes !== null && body['canExtend'] === true;
  return { closesAt, remainingMs: remainingMs === null ? null : Math.max(0, remainingMs), open, extendStepMinutes, canExtend };
}
