/**
 * A VM socket read into pooled buffers (buffer-pool.ts) through `net`'s `onread`, which must be
 * given when the socket is made (the dialer). Until a sink takes the bytes (the handshake, and the
 * gap before the bridge splices) each read is copied out and its buffer reused at once: those are
 * a few small messages. The sink gets a view into a pooled buffer and a `release` to call once the
 * view is no longer needed — when the send that carries it has completed. Each read may leave room
 * before it in its buffer, which the sink may write into (a WebSocket frame header: ./raw-binary-frame.ts).
 */
import type { OnReadOpts } from 'node:net';
import type { BufferPool } from './buffer-pool.js';

/**
 * Read before anyone takes it: a VM owes nothing between its handshake and the browser's
 * ClientInit, so past this it is flooding, and reading pauses until the sink is set.
 */
export const MAX_EARLY_READ_BYTES = 64 * 1024;

/**
 * Takes `view` (valid until `release`), with `room` bytes before it in the same buffer that are the
 * sink's to write (0 for bytes read before the sink was set: those are copies); false pauses
 * reading, as `socket.pause()` would.
 */
export type PooledReadSink = (view: Buffer, release: () => void, room: number) => boolean;

export class PooledReads {
  readonly #pool: BufferPool;
  readonly #room: number;
  /** The pooled buffer behind each read's view, to give back. */
  readonly #pooled = new WeakMap<Uint8Array, Buffer>();
  #copies: ((chunk: Buffer) => void) | null = null;
  /** Read while nobody listened: handed to the next listener or sink, in order. */
  #early: Buffer[] = [];
  #earlyBytes = 0;
  #sink: PooledReadSink | null = null;

  /** `room`: bytes left unread at the start of each buffer, for the sink (less than the buffer). */
  constructor(pool: BufferPool, room = 0) {
    this.#pool = pool;
    this.#room = room;
  }

  /** For the dialer: `net.connect({ onread })`. */
  readonly onread: OnReadOpts = {
    buffer: () => this.#lend(),
    callback: (bytes, target) => this.#read(bytes, target as Buffer),
  };

  #lend(): Buffer {
    const pooled = this.#pool.take();
    if (this.#room === 0) return pooled;
    const target = pooled.subarray(this.#room);
    this.#pooled.set(target, pooled);
    return target;
  }

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
    for (const chunk of this.#takeEarly()) sink(chunk, () => undefined, 0);
  }

  #takeEarly(): Buffer[] {
    this.#earlyBytes = 0;
    return this.#early.splice(0);
  }

  #read(bytes: number, target: Buffer): boolean {
    const buffer = this.#pooled.get(target) ?? target;
    const view = target.subarray(0, bytes);
    if (this.#sink) {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.#pool.give(buffer);
      };
      return this.#sink(view, release, this.#room);
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
