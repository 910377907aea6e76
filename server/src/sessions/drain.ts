/**
 * What a graceful stop waits for: every browser WebSocket and every VM socket of the connections
 * that were live, and every recording being finished. Each is tracked as a promise that settles
 * when it is gone; draining flips once and never back.
 */
export class DrainTracker {
  readonly #open = new Set<Promise<void>>();
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  /** How many tracked things are still open. */
  get size(): number {
    return this.#open.size;
  }

  startDraining(): void {
    this.#draining = true;
  }

  /** Tracks something until `gone` settles. */
  track(gone: Promise<unknown>): void {
    const settled = gone.then(
      () => undefined,
      () => undefined,
    );
    this.#open.add(settled);
    void settled.then(() => this.#open.delete(settled));
  }

  /** Resolves once everything tracked (including anything tracked meanwhile) is gone. */
  async idle(): Promise<void> {
    while (this.#open.size > 0) await Promise.all(this.#open);
  }
}

/** Settles when an emitter (a WebSocket, a net.Socket) emits 'close'. */
export function closedPromise(emitter: { once(event: 'close', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => emitter.once('close', () => resolve()));
}
