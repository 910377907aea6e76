/**
 * Reads the browser's RFB messages with their RFC 6143 lengths. It tells user input (keys,
 * pointer, clipboard, desktop resizing, power actions) from screen housekeeping, so the idle
 * timeout counts only a person's input, and, for view-only screens, drops that input in the
 * gateway. A watcher's screen (watcher.ts) starts dropping input and is switched to passing it
 * while the session's owner lets it drive, and back. RFB has no resynchronisation, so an unknown
 * message type ends the connection.
 *
 * It also removes the ExtendedMouseButtons pseudo-encoding from SetEncodings in every mode, so
 * pointer events keep their fixed 6-byte form and can always be measured (the price: no
 * back/forward mouse buttons).
 */
import { VNC_CLIENT_MESSAGE_MAX_BYTES } from '../../../../shared/src/limits.js';
import { ChunkQueue } from '../chunk-queue.js';
import { decideAssembly, type AssemblyDecision, type AssemblyLimits } from '../message-assembly.js';

export const MessageType = {
  setPixelFormat: 0,
  setEncodings: 2,
  framebufferUpdateRequest: 3,
  keyEvent: 4,
  pointerEvent: 5,
  clientCutText: 6,
  enableContinuousUpdates: 150,
  clientFence: 248,
  xvp: 250,
  setDesktopSize: 251,
  qemu: 255,
} as const;

/** Pseudo-encoding that would make pointer events 7 bytes long (noVNC ≥ 1.5). */
const EXTENDED_MOUSE_BUTTONS_ENCODING = -316;

/** Enough bytes to know any client message's type and length (ClientFence's, the longest, is 9). */
const MAX_HEADER_BYTES = 9;

/**
 * Pieces and time one client message may take (message-assembly.ts). noVNC flushes its send queue
 * in 10 KiB WebSocket messages, so a 1 MiB clipboard arrives in about 100; the allowance of one
 * per 2 KiB leaves room for any real client and caps a dribbler at ~500 frames per megabyte.
 * Ten seconds carry a full 1 MiB message over a 1 Mbit/s link.
 */
export const RFB_ASSEMBLY_LIMITS: AssemblyLimits = { baseFrames: 16, minAverageFrameBytes: 2048, maxMillis: 10_000 };

/** What a push forwards when no message completed: most dribbled frames. */
const NOTHING = Buffer.alloc(0);

/** `input`: a person's action, dropped in view-only mode. */
export type Measured = { readonly length: number; readonly input: boolean } | 'need_header' | 'unknown';

export type FilterRefusal = 'unknown_message' | Exclude<AssemblyDecision, 'ok'>;
export type FilterResult = { readonly ok: true; readonly forward: Buffer } | { readonly ok: false; readonly error: FilterRefusal };

export class ClientMessageFilter {
  readonly #queue = new ChunkQueue();
  #dropped = 0;
  /** The message still incomplete after the last push: when its first byte came, and in how many pieces. */
  #partialSince: number | null = null;
  #partialFrames = 0;
  #dropInput: boolean;
  readonly #onInput: () => void;

  constructor(options: { readonly dropInput: boolean; readonly onInput: () => void }) {
    this.#dropInput = options.dropInput;
    this.#onInput = options.onInput;
  }

  /**
   * Drops the page's input from the next whole message on, or passes it again. A message already
   * forwarded stays forwarded; one still incomplete is judged when it completes, under the mode then.
   */
  setDropInput(drop: boolean): void {
    this.#dropInput = drop;
  }

  get dropsInput(): boolean {
    return this.#dropInput;
  }

  get droppedMessages(): number {
    return this.#dropped;
  }

  /** When the first byte of a still-incomplete message arrived (ms), or null when none is pending. */
  get partialSince(): number | null {
    return this.#partialSince;
  }

  /** One WebSocket message's bytes in; the whole client messages to forward out, or why to close. */
  push(chunk: Buffer, nowMs: number): FilterResult {
    if (this.#partialSince !== null) this.#partialFrames += 1;
    this.#queue.push(chunk);
    const out: Buffer[] = [];
    let incomplete: Measured;
    for (;;) {
      const measured = measure(this.#queue.peek(MAX_HEADER_BYTES));
      if (measured === 'unknown') return { ok: false, error: 'unknown_message' };
      if (measured === 'need_header' || this.#queue.length < measured.length) {
        incomplete = measured;
        break;
      }
      const message = this.#queue.take(measured.length);
      this.#partialSince = null;
      this.#partialFrames = 0;
      if (measured.input) this.#onInput();
      if (measured.input && this.#dropInput) this.#dropped += 1;
      else out.push(rewrite(message));
    }
    const pending = this.#decide(nowMs, incomplete);
    if (pending !== 'ok') return { ok: false, error: pending };
    return { ok: true, forward: out.length === 0 ? NOTHING : out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out) };
  }

  /**
   * The gateway stopped reading the browser for a while (the VM was not draining): the incomplete
   * message's time starts again, since the wait was not the browser's doing. Its frame count stays.
   */
  restartClock(nowMs: number): void {
    if (this.#partialSince !== null) this.#partialSince = nowMs;
  }

  /** Whether the incomplete message (if any) is still within its allowance at `nowMs`. */
  check(nowMs: number): AssemblyDecision {
    return this.#decide(nowMs, measure(this.#queue.peek(MAX_HEADER_BYTES)));
  }

  /** `measured`: what the queued (incomplete) message's header says, measured once by the caller. */
  #decide(nowMs: number, measured: Measured): AssemblyDecision {
    if (this.#queue.length === 0) return 'ok';
    if (this.#partialSince === null) {
      this.#partialSince = nowMs;
      this.#partialFrames = 1;
    }
    const messageBytes = typeof measured === 'object' ? measured.length : this.#queue.length;
    return decideAssembly({ frames: this.#partialFrames, messageBytes, elapsedMs: nowMs - this.#partialSince }, RFB_ASSEMBLY_LIMITS);
  }
}

/**
 * Reads a message's length from its first bytes (at most MAX_HEADER_BYTES of them). Exported for
 * tests that read what a browser sent with the same lengths the gateway uses.
 */
export function measure(header: Buffer): Measured {
  if (header.length < 1) return 'need_header';
  const type = header.readUInt8(0);
  const need = (bytes: number, length: () => number, input: boolean): Measured => (header.length < bytes ? 'need_header' : { length: length(), input });
  switch (type) {
    case MessageType.setPixelFormat:
      return { length: 20, input: false };
    case MessageType.setEncodings:
      return need(4, () => 4 + 4 * header.readUInt16BE(2), false);
    case MessageType.framebufferUpdateRequest:
      return { length: 10, input: false };
    case MessageType.keyEvent:
      return { length: 8, input: true };
    case MessageType.pointerEvent:
      return { length: 6, input: true };
    case MessageType.clientCutText: {
      if (header.length < 8) return 'need_header';
      const length = Math.abs(header.readInt32BE(4));
      if (length > VNC_CLIENT_MESSAGE_MAX_BYTES) return 'unknown';
      return { length: 8 + length, input: true };
    }
    case MessageType.enableContinuousUpdates:
      return { length: 10, input: false };
    case MessageType.clientFence:
      return need(9, () => 9 + header.readUInt8(8), false);
    case MessageType.xvp:
      return { length: 4, input: true };
    case MessageType.setDesktopSize:
      return need(8, () => 8 + 16 * header.readUInt8(6), true);
    case MessageType.qemu: {
      if (header.length < 2) return 'need_header';
      const subtype = header.readUInt8(1);
      if (subtype === 0) return { length: 12, input: true };
      if (subtype === 1) {
        if (header.length < 4) return 'need_header';
        const operation = header.readUInt16BE(2);
        if (operation === 0 || operation === 1) return { length: 4, input: false };
        if (operation === 2) return { length: 10, input: false };
      }
      return 'unknown';
    }
    default:
      return 'unknown';
  }
}

function rewrite(message: Buffer): Buffer {
  if (message.readUInt8(0) !== MessageType.setEncodings) return message;
  const encodings: number[] = [];
  for (let offset = 4; offset < message.length; offset += 4) encodings.push(message.readInt32BE(offset));
  const kept = encodings.filter((e) => e !== EXTENDED_MOUSE_BUTTONS_ENCODING);
  if (kept.length === encodings.length) return message;
  const out = Buffer.alloc(4 + 4 * kept.length);
  out.writeUInt8(MessageType.setEncodings, 0);
  out.writeUInt16BE(kept.length, 2);
  kept.forEach((e, i) => out.writeInt32BE(e, 4 + 4 * i));
  return out;
}
