/**
 * A VM socket read into pooled buffers (buffer-pool.ts) through `net`'s `onread`, which must be
 * given when the socket is made (the dialer). Until a sink takes the bytes (the handshake, and the
 * gap before the bridge splices) each read is copied out and its buffer reused at once: those are
 * a few small messages. The sink gets a view into a pooled buffer and a `release` to call once the
 * view is no longer needed — when the send that carries it has completed.
 */
import type { OnReadOpts } from 'node:net';
import type { BufferPool } from './buffer-pool.js';

/**
 * Read before anyone takes it: a VM owes nothing between its handshake and the browser's
 * ClientInit, so past this it is flooding, and reading pauses until the sink is set.
 */
export const MAX_EARLY_READ_BYTES = 64 * 1024;

/** Takes `view` (valid until `release`); false pauses reading, as `socket.pause()` would. */
export type PooledReadSink = (view: Buffer, release: () => void) => boolean;

export class PooledReads {
  readonly #pool: BufferPool;
  #copies: ((chunk: Buffer) => void) | null = null;
  /** Read while nobody listened: handed to the next listener or sink, in order. */
  #early: Buffer[] = [];
  #earlyBytes = 0;
  #sink: PooledReadSink | null = null;

  constructor(pool: BufferPool) {
    this.#pool = pool;
  }

  /** For the dialer: `net.connect({ onread })`. */
  readonly onread: OnReadOpts = {
    buffer: () => this.#pool.take(),
    callback: (bytes, buffer) => this.#read(bytes, buffer as Buffer),
  };

  /** Copies of what is read go to `listener` (null: kept until the next listener or sink). */
  copyTo(listener: ((chunk: Buffer) => void) | null): void {
    this.#copies = listener;
    if (listener) for (const chunk of this.#takeEarly()) listener(chunk);
  }

  /**
   * From now on reads go to `sink` without a copy; what was read before goes first, as copies.
   * Resume the socket after: reading may have paused while nobody took the bytes.
   */
  sinkTo(sink: PooledReadSink): void {
    this.#copies = null;
    this.#sink = sink;
    for (const chunk of this.#takeEarly()) sink(chunk, () => undefined);
  }

  #takeEarly(): Buffer[] {
    this.#earlyBytes = 0;
    return this.#early.splice(0);
  }

  #read(bytes: number, buffer: Buffer): boolean {
    const view = buffer.subarray(0, bytes);
    if (this.#sink) {
      let released = false;
      return this.#sink(view, () => {
        if (released) return;
        released = true;
        this.#pool.give(buffer);
      });
    }
    const copy = Buffer.from(view);
    this.#pool.give(buffer);
    if (this.#copies) {
      this.#copies(copy);
      return true;
    }
    this.#early.push(copy);
    this.#earlyBytes += copy.length;
    return this.#earlyBytes < MAX_EARLY_READ_BYTES;
  }
}
