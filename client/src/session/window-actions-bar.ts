/**
 * Extend and release in the terminal's and the screen's status bar (issue #20). The gateway pushes
 * the window (a terminal's `window` message, the screen's poll); Extend shows while the close time
 * is within the last step. The gateway decides: a refused Extend hides the button and says why.
 */
import type { SessionObserver } from '../lib/session-observer.js';
import { findWindowActions, wireWindowActions } from '../lib/window-actions.js';
import { windowHasClosed } from './disconnect.js';

const MS_PER_MINUTE = 60_000;
/** How often the button is re-judged between window messages: the last step begins without one. */
const RECHECK_INTERVAL_MS = 5_000;

/** Wraps `observer` so the bar's buttons follow the window; a page without the buttons gets `observer` back. */
export function withWindowActions(buildId: string, observer: SessionObserver): SessionObserver {
  const elements = findWindowActions(document);
  if (!elements.release) return observer;
  const stepMs = Number(elements.extend?.dataset['stepMinutes'] ?? 0) * MS_PER_MINUTE;
  let closesAt: number | null = null;
  let closed = false;
  // Extend's own answer arrives as a `window` message (or the next poll) like every other change.
  const actions = wireWindowActions(elements, buildId, () => undefined, () => undefined);
  const judge = (): void => {
    // The browser's clock only decides when to offer the button; the gateway decides whether it works.
    actions.update({ canExtend: !closed && stepMs > 0 && closesAt !== null && closesAt - Date.now() <= stepMs && closesAt > Date.now() });
  };
  const timer = window.setInterval(judge, RECHECK_INTERVAL_MS);
  const end = (): void => {
    closed = true;
    window.clearInterval(timer);
    judge();
    if (elements.release) elements.release.hidden = true;
  };
  return {
    connected: () => observer.connected(),
    window: (at) => {
      closesAt = at === null ? null : Date.parse(at);
      judge();
      observer.window(at);
    },
    ended: (why) => {
      if (windowHasClosed(why)) end();
      observer.ended(why);
    },
  };
}
