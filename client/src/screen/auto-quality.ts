/**
 * Quality "Auto" (issue #19): a pure decider that moves the screen between the Quality presets as
 * the link allows. Once a second the page hands it a sample (how long the FramebufferUpdates of
 * that second took to arrive); it answers with the level to use. It steps down as soon as updates
 * queue and up only after a long spell of headroom, and waits longer before each retry of a level
 * that failed, so the picture never visibly flaps.
 *
 * Why update arrival time: with a slow link the VM's server keeps sending and each update's bytes
 * trickle in; the time from an update's first byte to its last rectangle drawn is how much a lower
 * level can save. It also counts a browser too busy to draw, which a lower level helps too. The
 * link's round trip is left out: no level shortens it, and stepping down for it would only blur
 * the picture. An idle desktop sends nothing and proves nothing: a sample without updates leaves
 * the decision as it was.
 */
import type { QualityPreset } from './quality.js';

/** From the fewest bytes to the sharpest picture: Auto moves one rung at a time. */
export const AUTO_LADDER: readonly QualityPreset[] = ['smallest', 'fast', 'balanced', 'sharp'];
/** Where each connection starts: noVNC's own default, fine for most links while Auto learns this one. */
export const AUTO_START: QualityPreset = 'balanced';

/**
 * ms an update may take to arrive before its level is too heavy. While the desktop keeps changing,
 * a change waits for the update on the wire and then arrives in the next: two update times plus
 * the way there (75 ms on a 150 ms link) must stay within the 500 ms change-to-pixel goal, and
 * 200 ms updates still make the 5 frames a second it asks for.
 */
export const DOWN_DELAY_MS = 200;
/** Samples in a row over DOWN_DELAY_MS before stepping down: one large redraw (a window opening) is not a trend. */
export const DOWN_AFTER_SAMPLES = 2;
/** ms under which updates arrive on a level with room: under a third of DOWN_DELAY_MS, so the next rung's larger updates (typically 1.5–3× the bytes) still fit. */
export const UP_DELAY_MS = 60;
/** ms of room before stepping up (no sample slow, most with room): a change is never undone while a person is still looking at it. */
export const UP_DWELL_MS = 8_000;
/** Of the samples with updates in that dwell, the share that must show room: a busy browser's odd middling second does not hold a fast link back. */
export const UP_ROOM_SHARE = 0.75;
/** Updates that must arrive within that dwell: a nearly idle desktop has not shown that the link has room. */
export const UP_MIN_UPDATES = 10;
/** ms after a step up within which a step down means the higher rung failed on this link. */
export const PROBE_WINDOW_MS = 15_000;
/** The longest wait (ms) before retrying a rung that failed: doubling from UP_DWELL_MS, at most one visible retry every two minutes. */
export const UP_DWELL_MAX_MS = 120_000;
/** ms after a change during which samples are ignored: updates already on the wire were encoded at the old level. */
export const SETTLE_MS = 1_000;
/** ms after connecting during which samples are ignored: the first full-screen update and the page's own start-up are not the link. */
export const START_GRACE_MS = 3_000;

export interface AutoSample {
  /** When the sample was taken (ms, monotonic). */
  readonly atMs: number;
  /** Updates completed during the sample. */
  readonly updates: number;
  /**
   * The time (ms) three in four updates took from their first byte to their last rectangle drawn,
   * counting one still arriving by its age so far; null: no update began or ended (update-timing.ts).
   */
  readonly p75UpdateMs: number | null;
}

export interface AutoState {
  /** Index into AUTO_LADDER. */
  readonly rung: number;
  readonly changedAtMs: number;
  /** Samples before this (ms) are ignored: the start-up, or the settling after a change. */
  readonly ignoreUntilMs: number;
  /** The last change was a step up still inside PROBE_WINDOW_MS: a step down now means it failed. */
  readonly probing: boolean;
  /** Consecutive samples over DOWN_DELAY_MS. */
  readonly slowSamples: number;
  /** Start of the current run of samples none of which was slow; null while there is none. */
  readonly roomSinceMs: number | null;
  readonly roomUpdates: number;
  /** Of the run's samples with updates: those with room, and those between the thresholds. */
  readonly roomSamples: number;
  readonly middlingSamples: number;
  /** How long room must last before the next step up; doubles when a step up fails. */
  readonly upDwellMs: number;
}

const NO_RUN = { slowSamples: 0, roomSinceMs: null, roomUpdates: 0, roomSamples: 0, middlingSamples: 0 } as const;

/** A new connection: the start rung, no history (a reconnect may be on another network). */
/** `start`: the level the viewer has now (AUTO_START on a new connection). */
export function initialAutoState(nowMs: number, start: QualityPreset = AUTO_START): AutoState {
  return { rung: AUTO_LADDER.indexOf(start), changedAtMs: nowMs, ignoreUntilMs: nowMs + START_GRACE_MS, probing: false, ...NO_RUN, upDwellMs: UP_DWELL_MS };
}

export function autoLevel(state: AutoState): QualityPreset {
  return AUTO_LADDER[state.rung] ?? AUTO_START;
}

/** The state after `sample`; its level is autoLevel(next). */
export function decideAuto(state: AutoState, sample: AutoSample): AutoState {
  const now = sample.atMs;
  // A step up that has held through the probe window succeeded: retries are quick again.
  const settled: AutoState =
    state.probing && now - state.changedAtMs > PROBE_WINDOW_MS ? { ...state, probing: false, upDwellMs: UP_DWELL_MS } : state;
  if (sample.p75UpdateMs === null || now < settled.ignoreUntilMs) return settled;

  if (sample.p75UpdateMs > DOWN_DELAY_MS) {
    const slowSamples = settled.slowSamples + 1;
    if (slowSamples < DOWN_AFTER_SAMPLES || settled.rung === 0) return { ...settled, ...NO_RUN, slowSamples };
    return changed(settled, settled.rung - 1, 'down', now, settled.probing ? Math.min(settled.upDwellMs * 2, UP_DWELL_MAX_MS) : settled.upDwellMs);
  }
  const room = sample.p75UpdateMs <= UP_DELAY_MS;
  // A middling second that leaves fewer than UP_ROOM_SHARE of the run's seconds with room ends the run.
  if (!room && settled.roomSamples / (settled.roomSamples + settled.middlingSamples + 1) < UP_ROOM_SHARE) return { ...settled, ...NO_RUN };
  const roomSinceMs = settled.roomSinceMs ?? now;
  const run: AutoState = {
    ...settled,
    slowSamples: 0,
    roomSinceMs,
    roomUpdates: settled.roomUpdates + sample.updates,
    roomSamples: settled.roomSamples + (room ? 1 : 0),
    middlingSamples: settled.middlingSamples + (room ? 0 : 1),
  };
  const top = run.rung === AUTO_LADDER.length - 1;
  // The dwell counts from the later of the last change and the start of the run.
  const waited = now - Math.max(roomSinceMs, run.changedAtMs);
  if (room && !top && waited >= run.upDwellMs && run.roomUpdates >= UP_MIN_UPDATES) return changed(run, run.rung + 1, 'up', now, run.upDwellMs);
  return run;
}

function changed(state: AutoState, rung: number, direction: 'up' | 'down', now: number, upDwellMs: number): AutoState {
  return { ...state, rung, changedAtMs: now, ignoreUntilMs: now + SETTLE_MS, probing: direction === 'up', ...NO_RUN, upDwellMs };
}
