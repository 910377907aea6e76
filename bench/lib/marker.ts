/**
 * Finds an end marker in a byte stream without keeping the stream: only the last few bytes of the
 * previous chunk are kept, so a marker split across chunks is still seen.
 */
export class MarkerScanner {
  readonly #marker: Buffer;
  #tail = Buffer.alloc(0);

  constructor(marker: string) {
    this.#marker = Buffer.from(marker, 'latin1');
  }

  /** True once the marker has appeared (in this chunk or straddling the previous one). */
  push(chunk: Buffer): boolean {
    const keep = this.#marker.length - 1;
    if (chunk.length >= this.#marker.length && chunk.includes(this.#marker)) return true;
    const joined = Buffer.concat([this.#tail, chunk.subarray(0, Math.min(chunk.length, keep))]);
    if (joined.includes(this.#marker)) return true;
    const combined = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.#tail, chunk]).subarray(-keep);
    this.#tail = Buffer.from(combined);
    return false;
  }
}

/**
 * A shell command that prints `marker` when done, written so the terminal's echo of the typed
 * command never contains the marker itself (the shell joins the quoted halves).
 */
export function commandWithMarker(command: string, marker: string): string {
  const half = Math.floor(marker.length / 2);
  return `${command}; echo ${marker.slice(0, half)}""${marker.slice(half)}\r`;
}
