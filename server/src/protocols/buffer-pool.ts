/**
 * Buffers for socket reads, reused instead of allocated per read. Node gives every read a fresh
 * 64 KiB buffer; a screen stream frees them in bulk at each GC, glibc hands the pages back, and the
 * next reads fault them in again — measured as most of the VNC splice's CPU (issue #18). A buffer
 * is given back only when the send that carries it has completed, so no two sends in flight ever
 * share one; a buffer never given back (its socket died mid-send) is simply left to the GC.
 */
export class BufferPool {
  readonly #free: Buffer[] = [];
  /** Weak: a buffer lent to a read that never comes (the socket closed) must not be kept by this. */
  readonly #lent = new WeakSet<Buffer>();
  #allocated = 0;

  /** `maxFree`: buffers kept for reuse; beyond it, returned ones are left to the GC. */
  constructor(
    readonly bufferBytes: number,
    readonly maxFree: number,
  ) {}

  take(): Buffer {
    const buffer = this.#free.pop() ?? this.#allocate();
    this.#lent.add(buffer);
    return buffer;
  }

  /** Idempotent: a buffer given back twice is kept once, so it can never be lent to two reads. */
  give(buffer: Buffer): void {
    if (!this.#lent.delete(buffer)) return;
    if (this.#free.length < this.maxFree) this.#free.push(buffer);
  }

  /** Buffers allocated since the start: flat once the pool has warmed up. */
  get allocated(): number {
    return this.#allocated;
  }

  #allocate(): Buffer {
    this.#allocated += 1;
    // Outside Node's shared 8 KiB slab: each buffer is its own, and lives as long as the pool keeps it.
    return Buffer.allocUnsafeSlow(this.bufferBytes);
  }
}
