/**
 * When a failed webhook delivery is tried again, and when it is given up: pure, so the schedule is
 * unit-tested without a clock. Exponential from 1 s, doubling, capped at 10 minutes (a receiver
 * down for a deploy is retried within seconds; one down for hours is not hammered), and given up
 * once the event is a day old (the orchestrator has long since torn the VM down by then).
 */

/** The first retry: a receiver restarting is usually back within a second. */
export const FIRST_RETRY_DELAY_MS = 1_000;
/** The longest wait between two attempts: an outage of hours still gets an attempt every 10 minutes. */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;
/** An event older than this is given up: its build is over and its VM gone. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

/** How long to wait before the attempt after `failedAttempts` failures (1 → 1 s, 2 → 2 s, …, capped). */
export function nextAttemptDelay(failedAttempts: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  // 2^30 s is far past the cap; clamping the exponent keeps the arithmetic finite.
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.min(exponent, 30));
}

export type RetryDecision = { readonly kind: 'retry'; readonly at: Date } | { readonly kind: 'give_up' };

/**
 * What to do after a failed attempt: retry later, or give up when the next attempt would come
 * after the event's 24 hours are over.
 */
export function afterFailure(createdAt: Date, failedAttempts: number, now: Date): RetryDecision {
  const at = now.getTime() + nextAttemptDelay(failedAttempts);
  if (at - createdAt.getTime() > GIVE_UP_AFTER_MS) return { kind: 'give_up' };
  return { kind: 'retry', at: new Date(at) };
}
