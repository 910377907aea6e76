/**
 * Enforces view-only screens in the gateway: client→server RFB messages are parsed with their
 * RFC 6143 lengths and input (keys, pointer, clipboard, desktop resizing, power actions) is
 * dropped. RFB has no resynchronisation, so an unknown message type ends the connection.
 *
 * The filter also removes the ExtendedMouseButtons pseudo-encoding from SetEncodings, so pointer
 * events keep their fixed 6-byte form and can always be measured.
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
/** noVNC's extended clipboard can announce large payloads; beyond this the client is hostile. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

type Measured = { readonly length: number; readonly forward: boolean } | 'incomplete' | 'unknown';

export class ViewOnlyFilter {
  #pending: Buffer = Buffer.alloc(0);
  #dropped = 0;

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
      if (measured.forward) out.push(rewrite(message));
      else this.#dropped += 1;
      data = data.subarray(measured.length);
    }
    this.#pending = Buffer.from(data);
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

function measure(data: Buffer): Measured {
  if (data.length < 1) return 'incomplete';
  const type = data.readUInt8(0);
  const fixed = (length: number, forward: boolean): Measured => (data.length >= length ? { length, forward } : 'incomplete');
  switch (type) {
    case MessageType.setPixelFormat:
      return fixed(20, true);
    case MessageType.setEncodings: {
      if (data.length < 4) return 'incomplete';
      return fixed(4 + 4 * data.readUInt16BE(2), true);
    }
    case MessageType.framebufferUpdateRequest:
      return fixed(10, true);
    case MessageType.keyEvent:
      return fixed(8, false);
    case MessageType.pointerEvent:
      return fixed(6, false);
    case MessageType.clientCutText: {
      if (data.length < 8) return 'incomplete';
      const length = Math.abs(data.readInt32BE(4));
      if (length > MAX_MESSAGE_BYTES) return 'unknown';
      return fixed(8 + length, false);
    }
    case MessageType.enableContinuousUpdates:
      return fixed(10, true);
    case MessageType.clientFence: {
      if (data.length < 9) return 'incomplete';
      return fixed(9 + data.readUInt8(8), true);
    }
    case MessageType.xvp:
      return fixed(4, false);
    case MessageType.setDesktopSize: {
      if (data.length < 8) return 'incomplete';
      return fixed(8 + 16 * data.readUInt8(6), false);
    }
    case MessageType.qemu: {
      if (data.length < 2) return 'incomplete';
      const subtype = data.readUInt8(1);
      if (subtype === 0) return fixed(12, false);
      if (subtype === 1) {
        if (data.length < 4) return 'incomplete';
        const operation = data.readUInt16BE(2);
        if (operation === 0 || operation === 1) return fixed(4, true);
        if (operation === 2) return fixed(10, true);
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
