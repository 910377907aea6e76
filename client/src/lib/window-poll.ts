/**
 * Keeps a page without a JSON channel of its own (the build page; the screen page, whose stream is
 * raw RFB) up to date with its build's access window: pushed by the gateway's window events
 * (Server-Sent Events) where its source offers them, asked for by polling otherwise.
 */
import type { WindowView } from '../../../shared/src/api.js';
import { ApiError, getJson } from './api.js';

/** Without the stream: often enough that a finished or revoked build shows within seconds; cheap for the gateway. */
export const WINDOW_POLL_INTERVAL_MS = 5000;
/** With the stream up, polling is only a safety net for an event a proxy held back or lost. */
export const WINDOW_SAFETY_POLL_INTERVAL_MS = 30_000;
/** After the stream is lost (a drain, a refusal), trying it again this much later: one request per half minute at worst. */
export const WINDOW_STREAM_RETRY_MS = 30_000;

/** Asking again cannot help: signed out, no longer a member, or not allowed. */
const FINAL_POLL_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

/**
 * Fetches the window's JSON; fails with an ApiError carrying the HTTP status. With `eventsUrl` the
 * window is also pushed from there; only cookie-authenticated sources have one, since EventSource
 * sends no headers and tokens never go into URLs.
 */
export type WindowSource = (() => Promise<unknown>) & { readonly eventsUrl?: string };

/** The signed-in user's pages: the session cookie says who asks. */
export function sessionWindowSource(buildId: string): WindowSource {
  const path = `/api/v1/builds/${encodeURIComponent(buildId)}/window`;
  return Object.assign(() => getJson<unknown>(path), { eventsUrl: `${path}/events` });
}

export interface WindowPoll {
  stop(): void;
}

/** How long until the next poll: slow while the stream carries the changes. */
export function pollDelayMs(streamUp: boolean): number {
  return streamUp ? WINDOW_SAFETY_POLL_INTERVAL_MS : WINDOW_POLL_INTERVAL_MS;
}

/** The stream is followed when the source offers one and this browser has EventSource. */
export function streamUrlOf(source: WindowSource, hasEventSource: boolean): string | null {
  return hasEventSource && typeof source.eventsUrl === 'string' ? source.eventsUrl : null;
}

/** One `window` event's data, checked like a polled answer. */
export function parseWindowEvent(data: unknown): WindowView | null {
  if (typeof data !== 'string') return null;
  try {
    return parseWindowView(JSON.parse(data));
  } catch {
    return null;
  }
}

/**
 * Calls `onWindow` with each window the stream pushes and each poll answers. Polls run every
 * `pollDelayMs(streamUp)` while the page is visible: a hidden page shows no one a countdown, and
 * the first look after it is shown again asks at once. Transient failures (network, 5xx) are
 * retried at the same pace; the page's countdown runs on from the last answer meanwhile. A lost
 * stream (error, or the gateway's `end`) falls back to polling at once, and is tried again later.
 * A hidden page holds no stream either: the gateway allows a user only a few, and the page in
 * front should have one.
 */
export function pollWindow(source: WindowSource, onWindow: (view: WindowView) => void): WindowPoll {
  let stopped = false;
  let inFlight = false;
  let timer: number | undefined;
  let retryTimer: number | undefined;
  let stream: EventSource | null = null;
  let streamUp = false;
  const streamUrl = streamUrlOf(source, typeof EventSource === 'function');

  const visible = (): boolean => document.visibilityState === 'visible';

  const schedule = (): void => {
    window.clearTimeout(timer);
    if (!stopped && visible()) timer = window.setTimeout(() => void ask(), pollDelayMs(streamUp));
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

  const closeStream = (): void => {
    stream?.close();
    stream = null;
    streamUp = false;
  };

  const loseStream = (): void => {
    if (stopped || stream === null) return;
    closeStream();
    // What the stream would have said may have changed meanwhile; the poll also learns why it ended.
    void ask();
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(openStream, WINDOW_STREAM_RETRY_MS);
  };

  function openStream(): void {
    if (stopped || streamUrl === null || stream !== null || !visible()) return;
    const events = new EventSource(streamUrl);
    stream = events;
    events.addEventListener('window', (event) => {
      const view = parseWindowEvent((event as MessageEvent<unknown>).data);
      if (stopped || stream !== events || !view) return;
      onWindow(view);
      if (!streamUp) {
        streamUp = true;
        schedule();
      }
    });
    // EventSource would reconnect on its own, at its pace and forever; this page chooses when.
    events.addEventListener('end', loseStream);
    events.addEventListener('error', loseStream);
  }

  const onVisibility = (): void => {
    if (stopped) return;
    if (!visible()) {
      window.clearTimeout(timer);
      window.clearTimeout(retryTimer);
      closeStream();
      return;
    }
    // The window may have changed while nobody looked; an answer in flight schedules the next.
    void ask();
    openStream();
  };

  function stop(): void {
    stopped = true;
    window.clearTimeout(timer);
    window.clearTimeout(retryTimer);
    closeStream();
    document.removeEventListener('visibilitychange', onVisibility);
  }

  document.addEventListener('visibilitychange', onVisibility);
  openStream();
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
