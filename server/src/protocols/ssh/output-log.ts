/**
 * The terminal output a session keeps for a page that may resume it, numbered by byte offset
 * since the session began. It keeps everything the page has not acknowledged and at least the
 * last `minBytes`; older output goes whole chunks at a time, so what it holds is at most one
 * chunk more than that. Chunks are kept as they came (no copying); reading hands out views.
 */
const NEWLINE = 0x0a;

export class OutputLog {
  readonly #chunks: Buffer[] = [];
  /** Index of the oldest kept chunk in #chunks; the array is compacted once half of it is dropped. */
  #head = 0;
  #start = 0;
  #end = 0;

  constructor(readonly minBytes: number) {}

  /** Offset of the oldest byte held. */
  get start(): number {
    return this.#start;
  }

  /** Offset just past the newest byte: all output the session ever had. */
  get end(): number {
    return this.#end;
  }

  get heldBytes(): number {
    return this.#end - this.#start;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#end += chunk.length;
  }

  /** The page has acknowledged everything before `acked`: drop what is older than that and than the last minBytes. */
  trim(acked: number): void {
    const keepFrom = Math.min(acked, this.#end - this.minBytes);
    while (this.#head < this.#chunks.length) {
      const oldest = this.#chunks[this.#head] as Buffer;
      if (this.#start + oldest.length > keepFrom) break;
      this.#start += oldest.length;
      this.#head += 1;
    }
    if (this.#head > 0 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Everything from `offset` (clamped to what is held) to the end, as views of the kept chunks. */
  readFrom(offset: number): Buffer[] {
    let position = this.#start;
    const from = Math.min(Math.max(offset, this.#start), this.#end);
    const out: Buffer[] = [];
    for (let i = this.#head; i < this.#chunks.length; i += 1) {
      const chunk = this.#chunks[i] as Buffer;
      const next = position + chunk.length;
      if (next > from) out.push(position >= from ? chunk : chunk.subarray(from - position));
      position = next;
    }
    return out;
  }

  /**
   * Up to `maxBytes` from `offset` (clamped to what is held) as one buffer: a view when they lie in
   * one kept chunk (the usual case: one turn's output), else a copy of the pieces.
   */
  read(offset: number, maxBytes: number): Buffer {
    const from = Math.min(Math.max(offset, this.#start), this.#end);
    const pieces: Buffer[] = [];
    let wanted = Math.min(maxBytes, this.#end - from);
    let position = this.#start;
    for (let i = this.#head; i < this.#chunks.length && wanted > 0; i += 1) {
      const chunk = this.#chunks[i] as Buffer;
      const next = position + chunk.length;
      if (next > from) {
        const piece = chunk.subarray(Math.max(0, from - position), Math.max(0, from - position) + wanted);
        pieces.push(piece);
        wanted -= piece.length;
      }
      position = next;
    }
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }

  /**
   * Where a page that has received `received` bytes resumes: there, when those bytes are still
   * held; else at the first line start held (a torn line would garble the rebuilt screen), or the
   * oldest byte when no line ends in what is held. A page claiming more than was sent gets the end.
   */
  resumeOffset(received: number): number {
    if (received >= this.#start) return Math.min(received, this.#end);
    let position = this.#start;
    for (let i = this.#head; i < this.#chunks.length; i += 1) {
      const chunk = this.#chunks[i] as Buffer;
      const newline = chunk.indexOf(NEWLINE);
      if (newline !== -1) return position + newline + 1;
      position += chunk.length;
    }
    return this.#start;
  }
}
