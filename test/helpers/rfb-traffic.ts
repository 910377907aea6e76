/**
 * The RFB a page's noVNC exchanged on its screen WebSocket, read from the frames Playwright saw:
 * the SetEncodings it sent, and the rectangles of each FramebufferUpdate it received, with their
 * encoding, Tight subencoding, size and, for Tight JPEG, the JPEG's quantisation (issue #19: the
 * Quality presets as the VM's server applies them).
 *
 * The received stream is parsed as the gateway sends it to the browser (RFB 3.8, security type
 * None) and as a TigerVNC server answers noVNC's encodings: Tight, ZRLE, CopyRect, Raw and the
 * pseudo-encodings noVNC asks for. Anything else throws, so a test never reads garbage as a rect.
 */
import type { Page } from 'playwright-core';
import { measure, MessageType } from '../../server/src/protocols/vnc/client-message-filter.js';

/** The binary frames `page` receives from now on, on its newest WebSocket (a reconnect starts afresh). */
export function recordReceivedFrames(page: Page): () => Buffer[] {
  let received: Buffer[] = [];
  page.on('websocket', (ws) => {
    const mine: Buffer[] = [];
    received = mine;
    ws.on('framereceived', (frame) => {
      if (typeof frame.payload !== 'string') mine.push(frame.payload);
    });
  });
  return () => received;
}

/** The client's half of the handshake before its first message: "RFB 003.008\n", the security type, ClientInit. */
const CLIENT_HANDSHAKE_BYTES = 12 + 1 + 1;
/** The longest header measure() needs to read a length (ClientFence's). */
const CLIENT_HEADER_BYTES = 9;

/** The encodings of each SetEncodings the page sent, in order. */
export function encodingsSent(frames: readonly Buffer[]): number[][] {
  const stream = Buffer.concat(frames);
  const lists: number[][] = [];
  let offset = CLIENT_HANDSHAKE_BYTES;
  while (offset < stream.length) {
    const measured = measure(stream.subarray(offset, offset + CLIENT_HEADER_BYTES));
    if (measured === 'unknown') throw new Error(`unknown client message type ${stream[offset]} at byte ${offset}`);
    if (measured === 'need_header' || offset + measured.length > stream.length) break;
    if (stream[offset] === MessageType.setEncodings) {
      const count = stream.readUInt16BE(offset + 2);
      lists.push(Array.from({ length: count }, (_, i) => stream.readInt32BE(offset + 4 + 4 * i)));
    }
    offset += measured.length;
  }
  return lists;
}

/** RFB's JPEG quality pseudo-encodings: -32 + level (0–9). */
export function qualityLevelOf(encodings: readonly number[]): number | undefined {
  const found = encodings.find((e) => e >= -32 && e <= -23);
  return found === undefined ? undefined : found + 32;
}

/** RFB's compression pseudo-encodings: -256 + level (0–9). */
export function compressionLevelOf(encodings: readonly number[]): number | undefined {
  const found = encodings.find((e) => e >= -256 && e <= -247);
  return found === undefined ? undefined : found + 256;
}

export const Encoding = { raw: 0, copyRect: 1, tight: 7, zrle: 16 } as const;
export type TightKind = 'fill' | 'jpeg' | 'basic';

export interface ReceivedRect {
  readonly encoding: number;
  readonly width: number;
  readonly height: number;
  /** Header included. */
  readonly bytes: number;
  /** Tight rectangles only. */
  readonly tight?: TightKind;
  /** Tight JPEG only: the sum of its first quantisation table's 64 entries (64: lossless-ish; larger: coarser). */
  readonly jpegQuantSum?: number;
}

export interface ReceivedUpdate {
  readonly rects: readonly ReceivedRect[];
}

/** Server messages other than FramebufferUpdate that TigerVNC sends noVNC. */
const SERVER = { update: 0, colourMap: 1, bell: 2, cutText: 3, endOfContinuousUpdates: 150, fence: 248 } as const;
const PSEUDO = {
  desktopSize: -223,
  lastRect: -224,
  cursor: -239,
  qemuExtendedKeyEvent: -258,
  qemuLed: -261,
  desktopName: -307,
  extendedDesktopSize: -308,
  vmwareCursor: 0x574d5664,
} as const;
/** The page's pixel format: 32 bits per pixel, depth 24, true colour (noVNC's). */
const BYTES_PER_PIXEL = 4;
/** Tight sends 24-bit pixels of a depth-24 true-colour format as 3 bytes ("TPIXEL"). */
const TIGHT_PIXEL_BYTES = 3;
/** Tight sends pixel data shorter than this uncompressed, without a length. */
const TIGHT_MIN_TO_COMPRESS = 12;

class Incomplete extends Error {}

/** Reads forward through a byte stream; running out throws Incomplete (the rest has not arrived yet). */
class Reader {
  offset = 0;
  constructor(private readonly bytes: Buffer) {}

  need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new Incomplete();
  }
  u8(): number {
    this.need(1);
    return this.bytes.readUInt8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const v = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  s32(): number {
    this.need(4);
    const v = this.bytes.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  take(n: number): Buffer {
    this.need(n);
    const slice = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return slice;
  }
  /** Tight's 1–3 byte length: 7 bits a byte, the top bit saying another follows (the third gives 8). */
  compactLength(): number {
    const b0 = this.u8();
    let length = b0 & 0x7f;
    if ((b0 & 0x80) === 0) return length;
    const b1 = this.u8();
    length |= (b1 & 0x7f) << 7;
    if ((b1 & 0x80) === 0) return length;
    return length | (this.u8() << 14);
  }
}

/** Every complete FramebufferUpdate the page received, in order; one still arriving is left out. */
export function updatesReceived(frames: readonly Buffer[]): ReceivedUpdate[] {
  const r = new Reader(Buffer.concat(frames));
  const updates: ReceivedUpdate[] = [];
  try {
    readHandshake(r);
    for (;;) {
      const type = r.u8();
      switch (type) {
        case SERVER.update:
          updates.push(readUpdate(r));
          break;
        case SERVER.bell:
        case SERVER.endOfContinuousUpdates:
          break;
        case SERVER.cutText: {
          r.take(3);
          // Extended clipboard messages carry a negative length.
          r.take(Math.abs(r.s32()));
          break;
        }
        case SERVER.fence: {
          r.take(3 + 4);
          r.take(r.u8());
          break;
        }
        default:
          throw new Error(`unexpected server message type ${type} at byte ${r.offset - 1}`);
      }
    }
  } catch (err) {
    if (!(err instanceof Incomplete)) throw err;
  }
  return updates;
}

/** What the gateway sends before the VM's messages: version, the one security type, SecurityResult, ServerInit. */
function readHandshake(r: Reader): void {
  r.take(12);
  r.take(r.u8());
  if (r.u32() !== 0) throw new Error('the screen login failed');
  r.take(2 + 2 + 16);
  r.take(r.u32());
}

function readUpdate(r: Reader): ReceivedUpdate {
  r.take(1);
  const count = r.u16();
  const rects: ReceivedRect[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = r.offset;
    r.take(4);
    const width = r.u16();
    const height = r.u16();
    const encoding = r.s32();
    if (encoding === PSEUDO.lastRect) break;
    const detail = readRectBody(r, encoding, width, height);
    rects.push({ encoding, width, height, bytes: r.offset - start, ...detail });
  }
  return { rects };
}

function readRectBody(r: Reader, encoding: number, width: number, height: number): Pick<ReceivedRect, 'tight' | 'jpegQuantSum'> {
  switch (encoding) {
    case Encoding.raw:
      r.take(width * height * BYTES_PER_PIXEL);
      return {};
    case Encoding.copyRect:
      r.take(4);
      return {};
    case Encoding.zrle:
      r.take(r.u32());
      return {};
    case Encoding.tight:
      return readTight(r, width, height);
    case PSEUDO.desktopSize:
    case PSEUDO.qemuExtendedKeyEvent:
      return {};
    case PSEUDO.cursor:
      r.take(width * height * BYTES_PER_PIXEL + Math.ceil(width / 8) * height);
      return {};
    case PSEUDO.vmwareCursor: {
      const classic = r.u8() === 0;
      r.take(1);
      r.take(width * height * BYTES_PER_PIXEL * (classic ? 2 : 1));
      return {};
    }
    case PSEUDO.qemuLed:
      r.take(1);
      return {};
    case PSEUDO.desktopName:
      r.take(r.u32());
      return {};
    case PSEUDO.extendedDesktopSize: {
      const screens = r.u8();
      r.take(3 + 16 * screens);
      return {};
    }
    default:
      throw new Error(`unexpected rectangle encoding ${encoding} at byte ${r.offset}`);
  }
}

const TIGHT_FILL = 0x08;
const TIGHT_JPEG = 0x09;
const TIGHT_EXPLICIT_FILTER = 0x04;
const FILTER = { copy: 0, palette: 1, gradient: 2 } as const;

function readTight(r: Reader, width: number, height: number): Pick<ReceivedRect, 'tight' | 'jpegQuantSum'> {
  // The low nibble only resets zlib streams.
  const kind = r.u8() >> 4;
  if (kind === TIGHT_FILL) {
    r.take(TIGHT_PIXEL_BYTES);
    return { tight: 'fill' };
  }
  if (kind === TIGHT_JPEG) return { tight: 'jpeg', jpegQuantSum: jpegQuantSum(r.take(r.compactLength())) };
  if (kind > TIGHT_JPEG) throw new Error(`bad Tight compression control ${kind} at byte ${r.offset - 1}`);
  const filter = (kind & TIGHT_EXPLICIT_FILTER) !== 0 ? r.u8() : FILTER.copy;
  let dataBytes: number;
  if (filter === FILTER.palette) {
    const colours = r.u8() + 1;
    r.take(colours * TIGHT_PIXEL_BYTES);
    dataBytes = colours === 2 ? Math.ceil(width / 8) * height : width * height;
  } else if (filter === FILTER.copy || filter === FILTER.gradient) {
    dataBytes = width * height * TIGHT_PIXEL_BYTES;
  } else {
    throw new Error(`bad Tight filter ${filter}`);
  }
  r.take(dataBytes < TIGHT_MIN_TO_COMPRESS ? dataBytes : r.compactLength());
  return { tight: 'basic' };
}

const JPEG_DQT = 0xdb;
const JPEG_START_OF_SCAN = 0xda;
const QUANT_ENTRIES = 64;

/** The sum of a JPEG's first quantisation table: what its encoder's quality setting chose. */
function jpegQuantSum(jpeg: Buffer): number {
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) throw new Error(`JPEG marker expected at ${offset}`);
    const marker = jpeg[offset + 1];
    const length = jpeg.readUInt16BE(offset + 2);
    if (marker === JPEG_DQT) {
      const precision16 = ((jpeg[offset + 4] ?? 0) >> 4) === 1;
      let sum = 0;
      for (let i = 0; i < QUANT_ENTRIES; i += 1) sum += precision16 ? jpeg.readUInt16BE(offset + 5 + 2 * i) : (jpeg[offset + 5 + i] ?? 0);
      return sum;
    }
    if (marker === JPEG_START_OF_SCAN) break;
    offset += 2 + length;
  }
  throw new Error('a JPEG without a quantisation table');
}
