/**
 * A pass-through that counts and hashes what flows, for the audit row (bytes and SHA-256 of
 * exactly what moved) and the metrics, and stops a body that grows past its limit. It holds no
 * more than a stream's usual buffer: backpressure flows through it.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class ByteMeter extends Transform {
  #bytes = 0;
  readonly #hash: Hash | null;
  readonly #limit: number;
  readonly #onBytes: (bytes: number) => void;
  readonly #tooLarge: () => Error;

  constructor(options: { readonly hash: boolean; readonly limit?: number; readonly onBytes: (bytes: number) => void; readonly tooLarge?: () => Error }) {
    super();
    this.#hash = options.hash ? createHash('sha256') : null;
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.#onBytes = options.onBytes;
    this.#tooLarge = options.tooLarge ?? (() => new Error('too large'));
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Hex SHA-256 of everything that passed; null when not hashing. Call once, at the end. */
  sha256(): string | null {
    return this.#hash?.digest('hex') ?? null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#limit) return callback(this.#tooLarge());
    this.#hash?.update(chunk);
    this.#onBytes(chunk.length);
    callback(null, chunk);
  }
}
