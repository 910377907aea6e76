/**
 * Reads exact byte counts from a stream of chunks, for handshakes that are parsed before the
 * connection is spliced. Bounded: a peer cannot make it buffer more than `limitBytes`.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #length = 0;
  #waiter: { bytes: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;
  readonly #limitBytes: number;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  push(chunk: Buffer): void {
    if (this.#failure) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (this.#length > this.#limitBytes) {
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
    const rest = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#length = 0;
    return rest;
  }

  #serve(): void {
    const waiter = this.#waiter;
    if (!waiter || this.#length < waiter.bytes) return;
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const head = all.subarray(0, waiter.bytes);
    const rest = all.subarray(waiter.bytes);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    this.#waiter = null;
    waiter.resolve(Buffer.from(head));
  }
}
