/**
 * Coalesces the small chunks a VM sends (one per SSH packet or socket read, often 1–4 KiB) into
 * fewer, larger WebSocket messages, without ever holding bytes back on a timer: whatever arrived
 * during one turn of the event loop goes out at the end of that turn (setImmediate), and a batch
 * that reaches its size limit goes out at once. A lone keystroke echo therefore leaves within the
 * same turn it arrived in, while a flood costs one message per turn instead of one per packet.
 */

export interface ChunkPlan {
  /** Send the pending batch before adding the chunk, so no batch grows past the limit. */
  readonly flushFirst: boolean;
  /** After adding it: send at once (the batch is full) or at the end of this event-loop turn. */
  readonly then: 'now' | 'end-of-turn';
}

/** Where a new chunk goes. A batch exceeds the limit only when a single chunk does. */
export function planChunk(pendingBytes: number, chunkBytes: number, maxBatchBytes: number): ChunkPlan {
  const flushFirst = pendingBytes > 0 && pendingBytes + chunkBytes > maxBatchBytes;
  const after = (flushFirst ? 0 : pendingBytes) + chunkBytes;
  return { flushFirst, then: after >= maxBatchBytes ? 'now' : 'end-of-turn' };
}

export type Scheduler = (callback: () => void) => void;

const endOfTurn: Scheduler = (callback) => {
  setImmediate(callback);
};

export class OutputBatcher {
  readonly #send: (batch: Buffer) => void;
  readonly #maxBatchBytes: number;
  readonly #schedule: Scheduler;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #scheduled = false;
  #discarded = false;

  constructor(send: (batch: Buffer) => void, maxBatchBytes: number, schedule: Scheduler = endOfTurn) {
    this.#send = send;
    this.#maxBatchBytes = maxBatchBytes;
    this.#schedule = schedule;
  }

  get pendingBytes(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    if (this.#discarded || chunk.length === 0) return;
    const plan = planChunk(this.#bytes, chunk.length, this.#maxBatchBytes);
    if (plan.flushFirst) this.flush();
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (plan.then === 'now') {
      this.flush();
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Sends what is pending as one message (a single chunk is sent as is, without a copy). */
  flush(): void {
    if (this.#bytes === 0 || this.#discarded) return;
    const batch = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#bytes);
    this.#chunks = [];
    this.#bytes = 0;
    this.#send(batch);
  }

  /** Drops what is pending (its page went; what it carried is kept elsewhere); later chunks batch as usual. */
  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }

  /** The session ended: drop what is pending and ignore later chunks. */
  discard(): void {
    this.#discarded = true;
    this.#chunks = [];
    this.#bytes = 0;
  }
}
