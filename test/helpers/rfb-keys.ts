/**
 * The key events a page's noVNC sent on one screen WebSocket, read from the frames Playwright saw
 * it send: what reaches the VM, as the gateway forwards it.
 */
import type { Page } from 'playwright-core';
import { measure, MessageType } from '../../server/src/protocols/vnc/client-message-filter.js';

/** The binary frames `page` sends from now on, on its newest WebSocket (a reconnect starts afresh). */
export function recordSentFrames(page: Page): () => Buffer[] {
  let sent: Buffer[] = [];
  page.on('websocket', (ws) => {
    const mine: Buffer[] = [];
    sent = mine;
    ws.on('framesent', (frame) => {
      if (typeof frame.payload !== 'string') mine.push(frame.payload);
    });
  });
  return () => sent;
}

export interface SentKey {
  readonly keysym: number;
  readonly down: boolean;
}

/** The client's half of the handshake before its first message: "RFB 003.008\n", the security type, ClientInit. */
const CLIENT_HANDSHAKE_BYTES = 12 + 1 + 1;
/** The longest header measure() needs to read a length (ClientFence's). */
const HEADER_BYTES = 9;
/** QEMU's client message subtype for an extended key event (keysym plus scancode). */
const QEMU_EXTENDED_KEY_EVENT = 0;

export interface SentMessage {
  /** RFB client message type (RFC 6143 §7.5). */
  readonly type: number;
  /** Set for plain KeyEvents and QEMU extended ones (noVNC sends those for keys with a scancode to servers that take them). */
  readonly key?: SentKey;
}

/** Each client message in the order sent: a clipboard message (type 6) against the keys around it. */
export function messagesSent(frames: readonly Buffer[]): SentMessage[] {
  const stream = Buffer.concat(frames);
  const messages: SentMessage[] = [];
  let offset = CLIENT_HANDSHAKE_BYTES;
  while (offset < stream.length) {
    const measured = measure(stream.subarray(offset, offset + HEADER_BYTES));
    if (measured === 'unknown') throw new Error(`unknown client message type ${stream[offset]} at byte ${offset}`);
    if (measured === 'need_header' || offset + measured.length > stream.length) break;
    const message = stream.subarray(offset, offset + measured.length);
    const type = message.readUInt8(0);
    if (type === MessageType.keyEvent) messages.push({ type, key: { down: message.readUInt8(1) !== 0, keysym: message.readUInt32BE(4) } });
    else if (type === MessageType.qemu && message[1] === QEMU_EXTENDED_KEY_EVENT) messages.push({ type, key: { down: message.readUInt16BE(2) !== 0, keysym: message.readUInt32BE(4) } });
    else messages.push({ type });
    offset += measured.length;
  }
  return messages;
}

/** Plain KeyEvents and QEMU extended ones. */
export function keyEventsSent(frames: readonly Buffer[]): SentKey[] {
  return messagesSent(frames).flatMap((m) => (m.key ? [m.key] : []));
}

/** "down 0xff1b" per event, for assertions that read like the key sequence. */
export function describeKeys(keys: readonly SentKey[]): string[] {
  return keys.map((k) => `${k.down ? 'down' : 'up'} 0x${k.keysym.toString(16)}`);
}
