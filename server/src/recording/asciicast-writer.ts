/**
 * Writes one terminal session as an asciicast v2 file while it runs: a JSON header line, then one
 * JSON array per event — `[seconds, "o", text]` for output, `[seconds, "r", "COLSxROWS"]` for a
 * resize, `[seconds, "m", note]` for a gap or a change of who types. Input itself is never recorded:
 * what a person types at a hidden prompt (a password) must not end up in a file others replay.
 *
 * Memory is bounded. The terminal must never wait for the disk, so when the file stream has more
 * than BUFFER_LIMIT_BYTES queued, events are dropped (counted) instead of buffered, and a marker
 * saying how much output is missing is written once the disk catches up. A recording stops for
 * good at MAX_FILE_BYTES or on the first write error.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Queued-but-unwritten bytes beyond which output is dropped: a few seconds of a flood on a slow disk. */
export const BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;
/** One recording never grows past this; a `yes` flood would otherwise fill the disk. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Recorded files hold terminal content: readable by the gateway's user only. */
const FILE_MODE = 0o600;
const MICROSECONDS_PER_SECOND = 1_000_000;

export interface AsciicastHeader {
  readonly cols: number;
  readonly rows: number;
  /** Wall-clock start of the recording. */
  readonly startedAt: Date;
  readonly title: string;
}

export interface AsciicastTotals {
  readonly sizeBytes: number;
  readonly droppedBytes: number;
}

export class AsciicastWriter {
  readonly #stream: WriteStream;
  readonly #startMs: number;
  readonly #monotonicMs: () => number;
  readonly #onError: (error: Error) => void;
  #decoder = new StringDecoder('utf8');
  #sizeBytes = 0;
  #droppedBytes = 0;
  /** Output dropped since the last marker. */
  #gapBytes = 0;
  /** A resize dropped with the output; written when the disk catches up. */
  #pendingSize: string | null = null;
  #stopped = false;
  /**
   * close() was called: the recording is over. What the VM still sends while its channel closes
   * (a prompt after the page left) is after the end, not a gap the disk caused.
   */
  #ended = false;
  readonly #closed: Promise<void>;

  /** `monotonicMs` is a clock that never jumps (performance.now), so event times only grow. */
  constructor(path: string, header: AsciicastHeader, monotonicMs: () => number, onError: (error: Error) => void) {
    this.#monotonicMs = monotonicMs;
    this.#startMs = monotonicMs();
    this.#onError = onError;
    // 'wx': a recording never overwrites another file.
    this.#stream = createWriteStream(path, { flags: 'wx', mode: FILE_MODE });
    this.#closed = new Promise((resolve) => this.#stream.once('close', () => resolve()));
    this.#stream.on('error', (error) => {
      if (!this.#stopped) this.#onError(error);
      this.#stopped = true;
      this.#stream.destroy();
    });
    this.#line(
      JSON.stringify({
        version: 2,
        width: header.cols,
        height: header.rows,
        timestamp: Math.floor(header.startedAt.getTime() / 1000),
        title: header.title,
        env: { TERM: 'xterm-256color' },
      }),
    );
  }

  /** Bytes handed to the file stream and not yet written; stays near BUFFER_LIMIT_BYTES at most. */
  get bufferedBytes(): number {
    return this.#stream.writableLength;
  }

  output(chunk: Buffer): void {
    if (this.#ended) return;
    if (this.#stopped) {
      this.#droppedBytes += chunk.length;
      return;
    }
    if (!this.#catchUp()) {
      this.#drop(chunk.length);
      return;
    }
    // A multi-byte character split across chunks is held back until its last byte arrives.
    const text = this.#decoder.write(chunk);
    if (text.length > 0) this.#event('o', text);
  }

  resize(cols: number, rows: number): void {
    const size = `${cols}x${rows}`;
    if (this.#stopped) return;
    if (!this.#catchUp()) {
      this.#pendingSize = size;
      return;
    }
    this.#event('r', size);
  }

  /** A marker (`"m"`) at this point of the session: shown by players, never mistaken for output. */
  note(text: string): void {
    if (this.#catchUp()) this.#event('m', text);
  }

  /** Ends the file; resolves once it is on disk (or failed). */
  async close(): Promise<AsciicastTotals> {
    this.#ended = true;
    if (!this.#stopped) {
      const rest = this.#decoder.end();
      if (rest.length > 0 && this.#catchUp()) this.#event('o', rest);
      this.#stopped = true;
      this.#stream.end();
    }
    await this.#closed;
    return { sizeBytes: this.#sizeBytes, droppedBytes: this.#droppedBytes };
  }

  /** True when there is room to write; first notes any gap left by dropped events. */
  #catchUp(): boolean {
    if (this.#stream.writableLength > BUFFER_LIMIT_BYTES) return false;
    if (this.#gapBytes > 0) {
      this.#event('m', `${this.#gapBytes} bytes of output not recorded (disk too slow)`);
      this.#gapBytes = 0;
    }
    if (this.#pendingSize !== null) {
      const size = this.#pendingSize;
      this.#pendingSize = null;
      this.#event('r', size);
    }
    return !this.#stopped;
  }

  #drop(bytes: number): void {
    this.#droppedBytes += bytes;
    this.#gapBytes += bytes;
    // A character cut by the gap would garble what follows it.
    this.#decoder = new StringDecoder('utf8');
  }

  #event(code: 'o' | 'r' | 'm', data: string): void {
    this.#line(JSON.stringify([this.#elapsedSeconds(), code, data]));
  }

  #line(json: string): void {
    const line = `${json}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#sizeBytes + bytes > MAX_FILE_BYTES) {
      const note = `${JSON.stringify([this.#elapsedSeconds(), 'm', 'recording stopped: size limit reached'])}\n`;
      this.#stream.write(note);
      this.#sizeBytes += Buffer.byteLength(note);
      this.#stopped = true;
      this.#stream.end();
      return;
    }
    this.#sizeBytes += bytes;
    this.#stream.write(line);
  }

  /** Microsecond resolution, like asciinema's own recorder. */
  #elapsedSeconds(): number {
    return Math.round((this.#monotonicMs() - this.#startMs) * 1000) / MICROSECONDS_PER_SECOND;
  }
}
