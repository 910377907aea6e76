/**
 * Bytes that arrive in chunks of any size (WebSocket messages, TCP reads) and leave as whole
 * messages. Every received byte is copied at most once however finely the peer splits its
 * messages: a pending message is a list of chunks, never a buffer re-joined on every arrival,
 * which would cost O(n²) for a message dribbled in n pieces (issue #22).
 */
export class ChunkQueue {
  #chunks: Buffer[] = [];
  /** Index of the first unread chunk: shifting an array per message would itself be O(n²). */
  #first = 0;
  /** Bytes of the first unread chunk already taken. */
  #offset = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * Up to `bytes` leading bytes without consuming them, for reading a message header. Costs at most
   * `bytes` copied, so callers keep it to a header's size.
   */
  peek(bytes: number): Buffer {
    const wanted = Math.min(bytes, this.#length);
    const head = this.#chunks[this.#first];
    if (head && head.length - this.#offset >= wanted) return head.subarray(this.#offset, this.#offset + wanted);
    return this.#copy(wanted, false);
  }

  /** Consumes exactly `bytes` (at most `length`): a view when they lie in one chunk, else one copy. */
  take(bytes: number): Buffer {
    const wanted = Math.min(bytes, this.#length);
    const head = this.#chunks[this.#first];
    if (head && head.length - this.#offset >= wanted) {
      const out = head.subarray(this.#offset, this.#offset + wanted);
      this.#advance(wanted);
      return out;
    }
    return this.#copy(wanted, true);
  }

  /** Consumes everything queued. */
  takeAll(): Buffer {
    return this.take(this.#length);
  }

  #copy(bytes: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(bytes);
    let written = 0;
    let index = this.#first;
    let offset = this.#offset;
    while (written < bytes) {
      const chunk = this.#chunks[index] as Buffer;
      const n = Math.min(bytes - written, chunk.length - offset);
      chunk.copy(out, written, offset, offset + n);
      written += n;
      offset += n;
      if (offset === chunk.length) {
        index += 1;
        offset = 0;
      }
    }
    if (consume) this.#advance(bytes);
    return out;
  }

  #advance(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const chunk = this.#chunks[this.#first] as Buffer;
      const n = Math.min(left, chunk.length - this.#offset);
      this.#offset += n;
      left -= n;
      if (this.#offset === chunk.length) {
        this.#chunks[this.#first] = EMPTY;
        this.#first += 1;
        this.#offset = 0;
      }
    }
    this.#length -= bytes;
    // Drop consumed slots once they are the larger part, so the array stays proportional to what is queued.
    if (this.#first > 0 && this.#first * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
