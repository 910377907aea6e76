/**
 * When a page that lost its connection tries again, and when it stops trying. Pure: the caller
 * keeps the clock and the timer (session/retry-schedule.ts).
 */

/** A blip (a Wi-Fi hand-over, a proxy restart) is over within a second: the first try comes quickly. */
export const FIRST_RETRY_DELAY_MS = 500;
/**
 * Doubling stops here: a page still cut off keeps asking every 8 s, which costs the gateway
 * nothing and brings the session back within 8 s of the network (the browser's `online` event
 * brings it back at once where the browser notices).
 */
export const MAX_RETRY_DELAY_MS = 8_000;

export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/**
 * `failures`: attempts that failed since the drop (0 right after it); `sinceDropMs`: time since the
 * drop; `holdMs`: how long the other end keeps what a new connection would take up. Past the hold
 * the session has surely ended, so trying again cannot bring it back; the last wait is cut to end
 * with the hold, so the last try still comes while it may succeed.
 */
export function decideRetry(failures: number, sinceDropMs: number, holdMs: number): RetryDecision {
  const left = holdMs - Math.max(0, sinceDropMs);
  if (left <= 0) return { retry: false };
  return { retry: true, delayMs: Math.min(retryDelayMs(failures), left) };
}

/** 0.5 s, 1 s, 2 s, 4 s, then 8 s for every later try. */
export function retryDelayMs(failures: number): number {
  const doublings = Math.max(0, Math.floor(failures));
  // 2 ** 5 already passes the cap; a large exponent would only risk Infinity.
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.min(doublings, 5));
}
