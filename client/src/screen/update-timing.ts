/**
 * How long the screen's FramebufferUpdates take to arrive (issue #19, Quality "Auto"): from an
 * update's first byte to its last rectangle drawn. Long on a link the updates queue on (their
 * bytes trickle in) or in a browser too busy to draw them; short while the link has room.
 */

export interface UpdateTimes {
  /** Updates completed since the sample before. */
  readonly updates: number;
  /** The longest of them (ms), or the age of one still arriving if longer; null: none began or ended. */
  readonly slowestUpdateMs: number | null;
}

export class UpdateTiming {
  #arrivingSince: number | null = null;
  #updates = 0;
  #slowestMs: number | null = null;

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
    const times = { updates: this.#updates, slowestUpdateMs: this.#slowestMs };
    this.#updates = 0;
    this.#slowestMs = null;
    return times;
  }

  #note(ms: number): void {
    this.#slowestMs = Math.max(this.#slowestMs ?? 0, ms);
  }
}
