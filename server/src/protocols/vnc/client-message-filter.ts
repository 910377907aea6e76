/**
 * Reads the browser's RFB messages with their RFC 6143 lengths. It tells user input (keys,
 * pointer, clipboard, desktop resizing, power actions) from screen housekeeping, so the idle
 * timeout counts only a person's input, and, for view-only screens, drops that input in the
 * gateway. RFB has no resynchronisation, so an unknown message type ends the connection.
 *
 * It also removes the ExtendedMouseButtons pseudo-encoding from SetEncodings in every mode, so
 * pointer events keep their fixed 6-byte form and can always be measured (the price: no
 * back/forward mouse buttons).
 */
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
/**
 * A clipboard message is held whole until complete; noVNC's (zlib-compressed extended) clipboard
 * stays far below this, and a larger announcement is a client trying to make the gateway buffer.
 */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** `input`: a person's action, dropped in view-only mode. */
type Measured = { readonly length: number; readonly input: boolean } | 'incomplete' | 'unknown';

export class ClientMessageFilter {
  #pending: Buffer = Buffer.alloc(0);
  #dropped = 0;
  readonly #dropInput: boolean;
  readonly #onInput: () => void;

  constructor(options: { readonly dropInput: boolean; readonly onInput: () => void }) {
    this.#dropInput = options.dropInput;
    this.#onInput = options.onInput;
  }

  get droppedMessages(): number {
    return this.#dropped;
  }

  /** Returns the bytes to forward, or null when the stream cannot be understood (close it). */
  push(chunk: Buffer): Buffer | null {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const measured = measure(data);
      if (measured === 'unknown') return null;
      if (measured === 'incomplete') break;
      const message = data.subarray(0, measured.length);
      if (measured.input) this.#onInput();
      if (measured.input && this.#dropInput) this.#dropped += 1;
      else out.push(rewrite(message));
      data = data.subarray(measured.length);
    }
    this.#pending = Buffer.from(data);
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

function measure(data: Buffer): Measured {
  if (data.length < 1) return 'incomplete';
  const type = data.readUInt8(0);
  const fixed = (length: number, input: boolean): Measured => (data.length >= length ? { length, input } : 'incomplete');
  switch (type) {
    case MessageType.setPixelFormat:
      return fixed(20, false);
    case MessageType.setEncodings: {
      if (data.length < 4) return 'incomplete';
      return fixed(4 + 4 * data.readUInt16BE(2), false);
    }
    case MessageType.framebufferUpdateRequest:
      return fixed(10, false);
    case MessageType.keyEvent:
      return fixed(8, true);
    case MessageType.pointerEvent:
      return fixed(6, true);
    case MessageType.clientCutText: {
      if (data.length < 8) return 'incomplete';
      const length = Math.abs(data.readInt32BE(4));
      if (length > MAX_MESSAGE_BYTES) return 'unknown';
      return fixed(8 + length, true);
    }
    case MessageType.enableContinuousUpdates:
      return fixed(10, false);
    case MessageType.clientFence: {
      if (data.length < 9) return 'incomplete';
      return fixed(9 + data.readUInt8(8), false);
    }
    case MessageType.xvp:
      return fixed(4, true);
    case MessageType.setDesktopSize: {
      if (data.length < 8) return 'incomplete';
      return fixed(8 + 16 * data.readUInt8(6), true);
    }
    case MessageType.qemu: {
      if (data.length < 2) return 'incomplete';
      const subtype = data.readUInt8(1);
      if (subtype === 0) return fixed(12, true);
      if (subtype === 1) {
        if (data.length < 4) return 'incomplete';
        const operation = data.readUInt16BE(2);
        if (operation === 0 || operation === 1) return fixed(4, false);
        if (operation === 2) return fixed(10, false);
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
