/**
 * Reads exact byte counts from a stream of chunks, for handshakes that are parsed before the
 * connection is spliced. Bounded: a peer cannot make it buffer more than `limitBytes`, and each
 * byte is copied at most once however finely the peer splits it (chunk-queue.ts).
 */
import { ChunkQueue } from './chunk-queue.js';

export class ByteQueue {
  readonly #queue = new ChunkQueue();
  #waiter: { bytes: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;
  readonly #limitBytes: number;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  push(chunk: Buffer): void {
    if (this.#failure) return;
    this.#queue.push(chunk);
    if (this.#queue.length > this.#limitBytes) {
      this.fail(new Error(`peer sent more than ${this.#limitBytes} bytes during the handshake`));
      return;
    }
    this.#serve();
  }

  /** Resolves with exactly `bytes` bytes once they have arrived. One read at a time. */
  read(bytes: number): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiter) return Promise.reject(new Error('concurrent reads'));
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiter = { bytes, resolve, reject };
      this.#serve();
    });
  }

  /** Every failure (peer closed, timeout) rejects the pending and all later reads. */
  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(error);
  }

  /** Hands over whatever arrived beyond the handshake. */
  takeRest(): Buffer {
    return this.#queue.takeAll();
  }

  #serve(): void {
    const waiter = this.#waiter;
    if (!waiter || this.#queue.length < waiter.bytes) return;
    this.#waiter = null;
    // A copy: the caller may keep it while the chunk it came from is reused.
    waiter.resolve(Buffer.from(this.#queue.take(waiter.bytes)));
  }
}
