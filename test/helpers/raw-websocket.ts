/**
 * A WebSocket client that can break the protocol on purpose: it does the HTTP upgrade by hand over
 * a TCP socket and writes frames byte by byte, so tests can send what no library would (reserved
 * opcodes, unmasked frames, RSV bits, lying lengths). It reads the server's frames to learn the
 * close code the gateway answered with.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RawFrame {
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number. */
  readonly rsv?: number;
  readonly opcode: number;
  readonly masked?: boolean;
  readonly payload?: Buffer;
  /** Announce this length instead of the payload's (the payload is still what is sent). */
  readonly declaredLength?: bigint;
}

export function encodeFrame(frame: RawFrame): Buffer {
  const payload = frame.payload ?? Buffer.alloc(0);
  const length = frame.declaredLength ?? BigInt(payload.length);
  const masked = frame.masked ?? true;
  const first = ((frame.fin ?? true) ? 0x80 : 0) | (((frame.rsv ?? 0) & 7) << 4) | (frame.opcode & 0x0f);
  let header: Buffer;
  if (length < 126n) header = Buffer.from([first, (masked ? 0x80 : 0) | Number(length)]);
  else if (length < 65536n) {
    header = Buffer.alloc(4);
    header.writeUInt8(first, 0);
    header.writeUInt8((masked ? 0x80 : 0) | 126, 1);
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(first, 0);
    header.writeUInt8((masked ? 0x80 : 0) | 127, 1);
    header.writeBigUInt64BE(length, 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i += 1) body[i] = (body[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return Buffer.concat([header, mask, body]);
}

export interface RawWebSocket {
  readonly socket: net.Socket;
  /** The close code in the server's close frame, or null if the socket ended without one. */
  readonly ended: Promise<{ readonly closeCode: number | null }>;
  send(bytes: Buffer): void;
  destroy(): void;
}

export type RawUpgrade = { readonly ok: true; readonly ws: RawWebSocket } | { readonly ok: false; readonly status: number };

export function openRawWebSocket(url: string, headers: Readonly<Record<string, string>>): Promise<RawUpgrade> {
  const target = new URL(url);
  const socket = net.connect({ host: target.hostname, port: Number(target.port) });
  socket.on('error', () => undefined);
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (status !== 101) {
        socket.destroy();
        return resolve({ ok: false, status });
      }
      resolve({ ok: true, ws: wrap(socket, head.subarray(end + 4)) });
    };
    const onClose = (): void => resolve({ ok: false, status: 0 });
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

function wrap(socket: net.Socket, initial: Buffer): RawWebSocket {
  let buffer = initial;
  let closeCode: number | null = null;
  const parse = (): void => {
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = (buffer[0] ?? 0) & 0x0f;
      let length = (buffer[1] ?? 0) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      if (opcode === 0x8 && closeCode === null) {
        closeCode = length >= 2 ? buffer.readUInt16BE(offset) : 1005;
        socket.end(); // as a browser would, so the server need not wait for our close frame
      }
      buffer = buffer.subarray(offset + length);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length > 0 ? Buffer.concat([buffer, chunk]) : chunk;
    parse();
  });
  parse();
  const ended = new Promise<{ closeCode: number | null }>((resolve) => socket.once('close', () => resolve({ closeCode })));
  return {
    socket,
    ended,
    send: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    destroy: () => socket.destroy(),
  };
}
