/**
 * The build's live sessions (GET /api/v1/builds/{buildId}/live-sessions), kept up to date by
 * asking: the build page's list and the screen toolbar's "who watches" read it. There is no push
 * channel to the build page (no SSE anywhere in the gateway), and the answer is an in-memory read.
 */
import type { MemberSessionView, SessionWatcherView } from '../../../shared/src/api.js';
import { ApiError, getJson } from './api.js';

/** Someone joining or being let type shows within seconds while a pair sets up; one cheap read per page. */
export const LIVE_SESSIONS_POLL_INTERVAL_MS = 3000;

/** Asking again cannot help: signed out, not a member, a tester, or the window closed. */
const FINAL_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 410]);

export interface LiveSessionsPoll {
  /** Asks now (after the page changed something), not at the next tick. */
  refresh(): void;
  stop(): void;
}

/**
 * Calls `onList` with each answer while the page is visible; a hidden page asks nothing and asks at
 * once when shown again. `onEnd` is told once when asking again cannot help (the ApiError).
 */
export function pollLiveSessions(buildId: string, onList: (sessions: readonly MemberSessionView[]) => void, onEnd: (error: ApiError) => void): LiveSessionsPoll {
  const path = `/api/v1/builds/${encodeURIComponent(buildId)}/live-sessions`;
  let stopped = false;
  let inFlight = false;
  let again = false;
  let timer: number | undefined;
  const visible = (): boolean => document.visibilityState === 'visible';

  const schedule = (): void => {
    window.clearTimeout(timer);
    if (!stopped && visible()) timer = window.setTimeout(() => void ask(), LIVE_SESSIONS_POLL_INTERVAL_MS);
  };

  const ask = async (): Promise<void> => {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const list = parseLiveSessions(await getJson<unknown>(path));
      if (!stopped && list) onList(list);
    } catch (error) {
      if (error instanceof ApiError && FINAL_STATUSES.has(error.status)) {
        stop();
        onEnd(error);
      }
      // Anything else (network, 5xx): the list stays as last shown and the next tick asks again.
    } finally {
      inFlight = false;
    }
    if (again) {
      again = false;
      return ask();
    }
    schedule();
  };

  const onVisibility = (): void => {
    if (stopped) return;
    if (visible()) void ask();
    else window.clearTimeout(timer);
  };

  function stop(): void {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('pagehide', stop);
  }

  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('pagehide', stop);
  void ask();
  return { refresh: () => void ask(), stop };
}

/** A proxy's error page or a newer gateway's answer is checked, not trusted; bad entries are left out. */
export function parseLiveSessions(value: unknown): readonly MemberSessionView[] | null {
  if (typeof value !== 'object' || value === null) return null;
  const { sessions } = value as { sessions?: unknown };
  if (!Array.isArray(sessions)) return null;
  return sessions.filter(isSession);
}

function isSession(value: unknown): value is MemberSessionView {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  const owner = s['owner'] as Record<string, unknown> | null | undefined;
  return (
    typeof s['sessionId'] === 'string' &&
    (s['kind'] === 'ssh' || s['kind'] === 'vnc') &&
    typeof owner === 'object' &&
    owner !== null &&
    typeof owner['userId'] === 'string' &&
    typeof owner['name'] === 'string' &&
    typeof s['yours'] === 'boolean' &&
    typeof s['startedAt'] === 'string' &&
    (s['state'] === 'attached' || s['state'] === 'held') &&
    Array.isArray(s['watchers']) &&
    s['watchers'].every(isWatcher)
  );
}

function isWatcher(value: unknown): value is SessionWatcherView {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Record<string, unknown>;
  return typeof w['userId'] === 'string' && typeof w['name'] === 'string' && (w['mode'] === 'drive' || w['mode'] === 'watch') && typeof w['you'] === 'boolean';
}

/** "Sam (can type), Kim": who watches, as one line of text. */
export function describeWatchers(watchers: readonly SessionWatcherView[]): string {
  return watchers.map((w) => (w.mode === 'drive' ? `${w.name} (can type)` : w.name)).join(', ');
}
