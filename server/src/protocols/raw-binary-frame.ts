/**
 * A binary WebSocket message written by the gateway itself, straight from a buffer that has room
 * for the frame header before the payload (the screen's pooled VM reads, ../protocols/pooled-reads.ts):
 * header and payload go to the socket as one write of one view, where ws's sender allocates a
 * header and writes two (issue #18). ws still does the handshake, control frames and receiving.
 *
 * The invariant relied on (ws 8, lib/sender.js): with no extension negotiated (the gateway turns
 * permessage-deflate off) and no Blob ever sent, ws's Sender stays in its DEFAULT state, queues
 * nothing, and writes each frame — data, ping, pong, close — to the socket synchronously inside
 * the call that sends it, as one corked write. A frame written here in one `socket.write` therefore
 * lands between two of ws's frames, never inside one. The fast path is refused, and the caller uses
 * `ws.send`, whenever that cannot be checked: an extension, bytes queued in ws's sender, a socket
 * that is not open for writing, or no room for the header.
 */
import { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** An unmasked server frame's header: 2 bytes, 4 for payloads of 126–65,535 bytes, 10 beyond. */
export const MAX_BINARY_FRAME_HEADER_BYTES = 10;
/** RFC 6455 §5.2: payload lengths up to this fit the 7-bit length field. */
const SHORT_PAYLOAD_MAX_BYTES = 125;
/** …and up to this the 16-bit extended length. */
const MEDIUM_PAYLOAD_MAX_BYTES = 0xffff;
/** FIN set, opcode 2 (binary). */
const FIN_BINARY = 0x82;

export function binaryFrameHeaderBytes(payloadBytes: number): number {
  if (payloadBytes <= SHORT_PAYLOAD_MAX_BYTES) return 2;
  return payloadBytes <= MEDIUM_PAYLOAD_MAX_BYTES ? 4 : 10;
}

/**
 * The frame for `payload`, its header written into the `room` bytes before it in the same memory
 * (which the caller owns); null when the room is too small.
 */
export function frameInPlace(payload: Buffer, room: number): Buffer | null {
  const headerBytes = binaryFrameHeaderBytes(payload.length);
  if (room < headerBytes || payload.byteOffset < headerBytes) return null;
  const frame = Buffer.from(payload.buffer, payload.byteOffset - headerBytes, headerBytes + payload.length);
  frame[0] = FIN_BINARY;
  if (headerBytes === 2) {
    frame[1] = payload.length;
  } else if (headerBytes === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(payload.length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(payload.length, 6);
  }
  return frame;
}

/**
 * Sends `payload` as one binary message in one socket write, the header in the `room` bytes
 * before it; `done` is called as ws.send's callback would be (once the socket has taken the bytes,
 * or with the error). False when the fast path is refused: nothing was written, use `ws.send`.
 * The bytes count in `ws.bufferedAmount` as ws's own sends do (they sit in the socket's queue).
 */
export function sendBinaryInPlace(ws: WebSocket, payload: Buffer, room: number, done: (error?: Error | null) => void): boolean {
  if (ws.readyState !== ws.OPEN || ws.extensions !== '') return false;
  const socket = socketOf(ws);
  if (!socket || !socket.writable || socket.writableEnded) return false;
  // bufferedAmount is the socket's queue plus what ws's sender holds back: equal means it holds nothing.
  if (ws.bufferedAmount !== socket.writableLength) return false;
  const frame = frameInPlace(payload, room);
  if (!frame) return false;
  socket.write(frame, done);
  return true;
}

/** ws keeps the upgraded socket as `_socket` (ws 8); anything else is not a socket ws writes to. */
function socketOf(ws: WebSocket): Socket | null {
  const socket: unknown = (ws as unknown as { _socket?: unknown })._socket;
  return socket instanceof Socket ? socket : null;
}
