/**
 * Quality "Auto" (issue #19): a pure decider that moves the screen between the Quality presets as
 * the link allows. Once a second the page hands it a sample (how long the slowest
 * FramebufferUpdate took to arrive, and the round trip to the gateway); it answers with the level
 * to use. It steps down as soon as updates queue and up only after a long spell of headroom, and
 * waits longer before each retry of a level that failed, so the picture never visibly flaps.
 *
 * Why update arrival time: with a slow link the VM's server keeps sending and each update's bytes
 * trickle in; the time from an update's first byte to its last rectangle drawn (plus half the
 * round trip, the way there) is how late a change reaches the screen. It also counts a browser too
 * busy to draw, which a lower level helps too. An idle desktop sends nothing and proves nothing:
 * a sample without updates leaves the decision as it was.
 */
import type { QualityPreset } from './quality.js';

/** From the fewest bytes to the sharpest picture: Auto moves one rung at a time. */
export const AUTO_LADDER: readonly QualityPreset[] = ['smallest', 'fast', 'balanced', 'sharp'];
/** Where each connection starts: noVNC's own default, fine for most links while Auto learns this one. */
export const AUTO_START: QualityPreset = 'balanced';

/** ms of update delay above which a level is too heavy: with the VM's encoding and its own leg added, the 500 ms change-to-pixel goal is near. */
export const DOWN_DELAY_MS = 300;
/** Samples in a row over DOWN_DELAY_MS before stepping down: one large redraw (a window opening) is not a trend. */
export const DOWN_AFTER_SAMPLES = 2;
/** ms of update delay under which a level has room: a third of DOWN_DELAY_MS, so the next rung's larger updates (typically 1.5–3× the bytes) still fit. */
export const UP_DELAY_MS = 100;
/** ms every sample must show room before stepping up: a change is never undone while a person is still looking at it. */
export const UP_DWELL_MS = 8_000;
/** Updates that must arrive within that dwell: a nearly idle desktop has not shown that the link has room. */
export const UP_MIN_UPDATES = 10;
/** ms after a step up within which a step down means the higher rung failed on this link. */
export const PROBE_WINDOW_MS = 15_000;
/** The longest wait (ms) before retrying a rung that failed: doubling from UP_DWELL_MS, at most one visible retry every two minutes. */
export const UP_DWELL_MAX_MS = 120_000;
/** ms after a change during which samples are ignored: updates already on the wire were encoded at the old level. */
export const SETTLE_MS = 1_000;

export interface AutoSample {
  /** When the sample was taken (ms, monotonic). */
  readonly atMs: number;
  /** Updates completed during the sample. */
  readonly updates: number;
  /**
   * The longest an update took from its first byte to its last rectangle drawn (ms), counting one
   * still arriving at the end of the sample by its age so far; null: no update began or ended.
   */
  readonly slowestUpdateMs: number | null;
  /** Round trip to the gateway (ms); null until one has been measured. */
  readonly roundTripMs: number | null;
}

export interface AutoState {
  /** Index into AUTO_LADDER. */
  readonly rung: number;
  readonly changedAtMs: number;
  readonly lastChange: 'up' | 'down' | null;
  /** Consecutive samples over DOWN_DELAY_MS. */
  readonly slowSamples: number;
  /** Start of the current run of samples with room; null while there is none. */
  readonly roomSinceMs: number | null;
  readonly roomUpdates: number;
  /** How long room must last before the next step up; doubles when a step up fails. */
  readonly upDwellMs: number;
}

/** A new connection: the start rung, no history (a reconnect may be on another network). */
export function initialAutoState(nowMs: number): AutoState {
  return { rung: AUTO_LADDER.indexOf(AUTO_START), changedAtMs: nowMs, lastChange: null, slowSamples: 0, roomSinceMs: null, roomUpdates: 0, upDwellMs: UP_DWELL_MS };
}

export function autoLevel(state: AutoState): QualityPreset {
  return AUTO_LADDER[state.rung] ?? AUTO_START;
}

/** The state after `sample`; its level is autoLevel(next). */
export function decideAuto(state: AutoState, sample: AutoSample): AutoState {
  const now = sample.atMs;
  // A step up that has held through the probe window succeeded: retries are quick again.
  const settled: AutoState =
    state.lastChange === 'up' && now - state.changedAtMs > PROBE_WINDOW_MS ? { ...state, lastChange: null, upDwellMs: UP_DWELL_MS } : state;
  if (sample.slowestUpdateMs === null || now - settled.changedAtMs < SETTLE_MS) return settled;

  const delayMs = sample.slowestUpdateMs + (sample.roundTripMs ?? 0) / 2;
  if (delayMs > DOWN_DELAY_MS) {
    const slowSamples = settled.slowSamples + 1;
    if (slowSamples < DOWN_AFTER_SAMPLES || settled.rung === 0) return { ...settled, slowSamples, roomSinceMs: null, roomUpdates: 0 };
    const failedProbe = settled.lastChange === 'up';
    return changed(settled, settled.rung - 1, 'down', now, failedProbe ? Math.min(settled.upDwellMs * 2, UP_DWELL_MAX_MS) : settled.upDwellMs);
  }
  if (delayMs > UP_DELAY_MS) return { ...settled, slowSamples: 0, roomSinceMs: null, roomUpdates: 0 };

  const roomSinceMs = settled.roomSinceMs ?? now;
  const roomUpdates = settled.roomUpdates + sample.updates;
  const top = settled.rung === AUTO_LADDER.length - 1;
  // The dwell counts from the later of the last change and the start of the run of room.
  const waited = now - Math.max(roomSinceMs, settled.changedAtMs);
  if (!top && waited >= settled.upDwellMs && roomUpdates >= UP_MIN_UPDATES) return changed(settled, settled.rung + 1, 'up', now, settled.upDwellMs);
  return { ...settled, slowSamples: 0, roomSinceMs, roomUpdates };
}

function changed(state: AutoState, rung: number, direction: 'up' | 'down', now: number, upDwellMs: number): AutoState {
  return { rung, changedAtMs: now, lastChange: direction, slowSamples: 0, roomSinceMs: null, roomUpdates: 0, upDwellMs };
}
