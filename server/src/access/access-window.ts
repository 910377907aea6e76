/**
 * The remote-access window of a build: it opens when the build starts, stays open while it runs,
 * and closes `grace` after it ends or at once when revoked or released. A close time, once set, only
 * ever moves earlier: a late or repeated finish cannot reopen or extend access. The one exception is
 * a user's Extend within the orchestrator's policy (./extension.ts, audited as build_extended).
 */
export interface AccessWindow {
  readonly opensAt: Date;
  /** null while the build runs and nobody revoked access. */
  readonly closesAt: Date | null;
}

const MS_PER_MINUTE = 60_000;

/**
 * `extendedMs`: what users' Extends (./extension.ts) already added; a replayed or corrected finish
 * proposes its close time with them, so it narrows only what the orchestrator itself changed.
 */
export function closeTimeAfterFinish(finishedAt: Date, graceMinutes: number, extendedMs = 0): Date {
  return new Date(finishedAt.getTime() + graceMinutes * MS_PER_MINUTE + extendedMs);
}

/** The earlier of an existing close time and a proposed one. */
export function narrowCloseTime(existing: Date | null, proposed: Date): Date {
  return existing !== null && existing.getTime() <= proposed.getTime() ? existing : proposed;
}

/**
 * Orchestrator and gateway clocks differ a little; a build that "starts" a few minutes in our
 * future is a clock difference, not a scheduled build, and should not lock its user out.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * MS_PER_MINUTE;

export function isWindowOpen(window: AccessWindow, now: Date): boolean {
  if (now.getTime() < window.opensAt.getTime() - CLOCK_SKEW_TOLERANCE_MS) return false;
  return window.closesAt === null || now.getTime() < window.closesAt.getTime();
}
