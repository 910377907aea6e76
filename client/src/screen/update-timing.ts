/**
 * How long the screen's FramebufferUpdates take to arrive (issue #19, Quality "Auto"): from an
 * update's first byte to its last rectangle drawn. Long on a link the updates queue on (their
 * bytes trickle in) or in a browser too busy to draw them; short while the link has room. The
 * link's own round trip is not in it: no quality level can shorten that.
 */

export interface UpdateTimes {
  /** Updates completed since the sample before. */
  readonly updates: number;
  /**
   * The time (ms) three in four of them arrived within, counting one still arriving by its age so
   * far; null: none began or ended. Not the slowest: one stall of a busy browser is not the link.
   */
  readonly p75UpdateMs: number | null;
}

/** More updates than any screen draws in a second; past it a sample stops collecting (bounded memory). */
const MAX_UPDATES_PER_SAMPLE = 1000;
const PERCENTILE = 0.75;

export class UpdateTiming {
  #arrivingSince: number | null = null;
  #updates = 0;
  #durations: number[] = [];

  /** An update's first byte was read. */
  started(nowMs: number): void {
    this.#arrivingSince ??= nowMs;
  }

  /** Its last rectangle was drawn. */
  finished(nowMs: number): void {
    if (this.#arrivingSince === null) return;
    this.#note(nowMs - this.#arrivingSince);
    this.#updates += 1;
    this.#arrivingSince = null;
  }

  /** Each sample covers the time since the one before; an update still arriving counts by its age so far. */
  sample(nowMs: number): UpdateTimes {
    if (this.#arrivingSince !== null) this.#note(nowMs - this.#arrivingSince);
    const times = { updates: this.#updates, p75UpdateMs: percentile(this.#durations, PERCENTILE) };
    this.#updates = 0;
    this.#durations = [];
    return times;
  }

  #note(ms: number): void {
    if (this.#durations.length < MAX_UPDATES_PER_SAMPLE) this.#durations.push(ms);
  }
}

/** Nearest rank: the smallest value at least `fraction` of them are at or below. */
function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(fraction * sorted.length) - 1] ?? null;
}
