/**
 * Extending a build's access window (issue #20): the orchestrator grants a policy when it registers
 * the build ({stepMinutes, maxMinutes}); a member with an allowed role may then move the close time
 * later by one step while the window is in its last step, never past `finishedAt + grace + maxMinutes`.
 * This is the one way a close time moves later (./close-time.ts keeps every other change narrowing),
 * so the decision is pure and lives here, next to the window it widens.
 */
import { err, ok, type Result } from '../../../shared/src/result.js';
import { isWindowOpen } from './access-window.js';
import { RELEASED_BY_PREFIX } from '../../../shared/src/protocol/close-codes.js';

const MS_PER_MINUTE = 60_000;

/** Bounds of a registration's policy, in minutes: a step shorter than a minute cannot be clicked in time. */
export const MIN_EXTENSION_STEP_MINUTES = 1;
/** A step longer than a working day is no "extension" but a second window; the orchestrator should say so itself. */
export const MAX_EXTENSION_STEP_MINUTES = 24 * 60;
/** Total extra time one build may gain: a VM kept for days is a cost no page click should commit to. */
export const MAX_EXTENSION_TOTAL_MINUTES = 7 * 24 * 60;

/** What the orchestrator granted at registration; absent means no extensions. */
export interface ExtensionPolicy {
  readonly stepMinutes: number;
  readonly maxMinutes: number;
}

/** The parts of a build the decision reads. */
export interface ExtendableBuild {
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly closesAt: Date | null;
  readonly extensions: ExtensionPolicy | null;
}

export type ExtensionRefusal =
  /** No policy, or the close time is not known yet (a running build's window has no end to move). */
  | 'extension_not_available'
  /** More than one step remains: extending now would only stack time nobody asked for yet. */
  | 'extension_too_early'
  /** The close time is already at `finishedAt + grace + maxMinutes`. */
  | 'extension_limit_reached'
  /** Closed (by time, revoke or release): nothing left to extend; a revoke forbids extending. */
  | 'window_closed';

export interface Extension {
  readonly from: Date;
  readonly to: Date;
}

/** The latest close time a build may reach: its natural close time plus every minute of the policy. */
export function extensionCap(finishedAt: Date, graceMinutes: number, policy: ExtensionPolicy): Date {
  return new Date(finishedAt.getTime() + (graceMinutes + policy.maxMinutes) * MS_PER_MINUTE);
}

/**
 * Order matters: a closed window is final whatever the policy says (so a revoked build answers
 * 410, as every other request on it does), then whether extending exists at all, then timing.
 */
export function decideExtension(build: ExtendableBuild, now: Date, graceMinutes: number): Result<Extension, ExtensionRefusal> {
  const { closesAt, finishedAt, extensions } = build;
  if (closesAt !== null && !isWindowOpen({ opensAt: build.startedAt, closesAt }, now)) return err('window_closed');
  if (extensions === null || closesAt === null || finishedAt === null) return err('extension_not_available');
  if (closesAt.getTime() - now.getTime() > extensions.stepMinutes * MS_PER_MINUTE) return err('extension_too_early');
  const cap = extensionCap(finishedAt, graceMinutes, extensions);
  if (closesAt.getTime() >= cap.getTime()) return err('extension_limit_reached');
  const to = new Date(Math.min(closesAt.getTime() + extensions.stepMinutes * MS_PER_MINUTE, cap.getTime()));
  return ok({ from: closesAt, to });
}

/** For pages: whether the Extend button can work now, so it is shown only when it can. */
export function canExtendNow(build: ExtendableBuild, now: Date, graceMinutes: number): boolean {
  return decideExtension(build, now, graceMinutes).ok;
}

export const EXTENSION_REFUSAL_MESSAGES: Readonly<Record<ExtensionRefusal, string>> = Object.freeze({
  extension_not_available: 'This build cannot be extended: the orchestrator granted no extensions, or its close time is not known yet.',
  extension_too_early: 'The window can be extended only in its last step; try again closer to the close time.',
  extension_limit_reached: 'The window has reached the longest extension the orchestrator allows.',
  window_closed: 'The remote access window of this build has closed.',
});

/** The close reason (with 4000) when a user releases a build's VM; pages show it. */
export function releaseReason(releasedBy: string): string {
  return `${RELEASED_BY_PREFIX}${releasedBy}`;
}
