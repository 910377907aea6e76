/**
 * The browser side of the screen protocol, as noVNC speaks it: RFB 3.8 over a WebSocket with the
 * `binary` subprotocol and the ticket. Used to check what the gateway offers and to drive input.
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { vncAuthResponse } from '../../server/src/protocols/vnc/rfb-auth.js';
import { ByteQueue } from '../../server/src/protocols/byte-queue.js';
import type { GatewayAddress } from './gateway.js';
import { UpgradeRefused, type Ticket } from './terminal-client.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

/** Enough for a few full-screen updates of a test desktop. */
const SCREEN_BUFFER_LIMIT_BYTES = 64 * 1024 * 1024;
/** Bounds each protocol wait in tests. */
const SCREEN_WAIT_MS = 15_000;
const SECURITY_VNC_AUTH = 2;

export interface ServerInit {
  readonly width: number;
  readonly height: number;
  readonly bitsPerPixel: number;
  readonly name: string;
}

export interface ScreenClient {
  readonly ws: WebSocket;
  /** The security types the gateway offered the browser. */
  readonly offeredTypes: readonly number[];
  readonly securityResult: number;
  /** The reason sent with a failed SecurityResult; null when it succeeded. */
  readonly securityReason: string | null;
  readonly serverInit: ServerInit | null;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Requests a full (non-incremental) update of a rectangle and returns its raw 32-bit pixels. */
  readPixels(x: number, y: number, width: number, height: number): Promise<Buffer>;
  /** readPixels in two halves, to ask for several updates before reading any. */
  requestPixels(x: number, y: number, width: number, height: number): void;
  nextPixels(): Promise<Buffer>;
  pointer(x: number, y: number, buttons?: number): void;
  key(keysym: number, down: boolean): void;
  typeText(text: string): void;
  close(): void;
}

/** Requests a full (non-incremental) Raw update of a rectangle and returns its 32-bit pixels, rectangle by rectangle. */
async function readRawPixels(send: (bytes: Buffer) => void, queue: ByteQueue, x: number, y: number, width: number, height: number): Promise<Buffer> {
  requestRawPixels(send, x, y, width, height);
  return receiveRawPixels(queue);
}

function requestRawPixels(send: (bytes: Buffer) => void, x: number, y: number, width: number, height: number): void {
  // Raw encoding only, so the answer is plain pixels in the server's format.
  const setEncodings = Buffer.alloc(8);
  setEncodings.writeUInt8(2, 0);
  setEncodings.writeUInt16BE(1, 2);
  setEncodings.writeInt32BE(0, 4);
  const request = Buffer.alloc(10);
  request.writeUInt8(3, 0);
  request.writeUInt8(0, 1);
  request.writeUInt16BE(x, 2);
  request.writeUInt16BE(y, 4);
  request.writeUInt16BE(width, 6);
  request.writeUInt16BE(height, 8);
  send(Buffer.concat([setEncodings, request]));
}

/** The pixels of the next FramebufferUpdate that has any. */
async function receiveRawPixels(queue: ByteQueue): Promise<Buffer> {
  const pixels: Buffer[] = [];
  for (;;) {
    const type = (await queue.read(1)).readUInt8(0);
    if (type !== 0) throw new Error(`unexpected server message ${type}`);
    const header = await queue.read(3);
    const rects = header.readUInt16BE(1);
    for (let i = 0; i < rects; i++) {
      const rect = await queue.read(12);
      const w = rect.readUInt16BE(4);
      const h = rect.readUInt16BE(6);
      const encoding = rect.readInt32BE(8);
      if (encoding !== 0) throw new Error(`unexpected encoding ${encoding}`);
      pixels.push(await queue.read(w * h * 4));
    }
    if (pixels.length > 0) return Buffer.concat(pixels);
  }
}

/**
 * Straight to the VNC server (RFB 3.8, VncAuth), not through the gateway: what a native viewer
 * would see, to compare the gateway's relay with. Reads one rectangle and closes.
 */
export async function readPixelsDirect(host: string, port: number, password: string, rect: { x: number; y: number; width: number; height: number }): Promise<Buffer> {
  const socket = net.connect({ host, port });
  const queue = new ByteQueue(SCREEN_BUFFER_LIMIT_BYTES);
  socket.on('data', (chunk: Buffer) => queue.push(chunk));
  socket.once('error', (error) => queue.fail(error));
  socket.once('close', () => queue.fail(new Error('the VNC server closed the connection')));
  const send = (bytes: Buffer): void => void socket.write(bytes);
  const timeout = setTimeout(() => queue.fail(new Error('direct screen read timed out')), SCREEN_WAIT_MS);
  try {
    if ((await queue.read(12)).toString('latin1') !== 'RFB 003.008\n') throw new Error('the VNC server does not speak RFB 3.8');
    send(Buffer.from('RFB 003.008\n', 'latin1'));
    const offered = [...(await queue.read((await queue.read(1)).readUInt8(0)))];
    if (!offered.includes(SECURITY_VNC_AUTH)) throw new Error(`no VncAuth among [${offered.join(', ')}]`);
    send(Buffer.from([SECURITY_VNC_AUTH]));
    send(vncAuthResponse(password, await queue.read(16)));
    if ((await queue.read(4)).readUInt32BE(0) !== 0) throw new Error('the VNC server refused the password');
    send(Buffer.from([1])); // shared
    const head = await queue.read(24);
    await queue.read(head.readUInt32BE(20));
    return await readRawPixels(send, queue, rect.x, rect.y, rect.width, rect.height);
  } finally {
    clearTimeout(timeout);
    socket.destroy();
  }
}

export async function connectScreen(ticket: Ticket, gw: GatewayAddress, origin = gw.origin): Promise<ScreenClient> {
  const ws = new WebSocket(ticket.url, [ticket.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${ticket.ticket}`], { headers: { Origin: origin } });
  const queue = new ByteQueue(SCREEN_BUFFER_LIMIT_BYTES);
  ws.on('message', (data: Buffer) => queue.push(Buffer.from(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      queue.fail(new Error(`closed ${code} ${reason.toString('utf8')}`));
      resolve({ code, reason: reason.toString('utf8') });
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
    });
    ws.once('error', reject);
  });
  const timeout = setTimeout(() => queue.fail(new Error('screen handshake timed out')), SCREEN_WAIT_MS);
  const send = (bytes: Buffer): void => ws.send(bytes, { binary: true });

  const version = (await queue.read(12)).toString('latin1');
  if (version !== 'RFB 003.008\n') throw new Error(`unexpected version ${JSON.stringify(version)}`);
  send(Buffer.from('RFB 003.008\n', 'latin1'));
  const count = (await queue.read(1)).readUInt8(0);
  const offeredTypes = [...(await queue.read(count))];
  send(Buffer.from([1]));
  const securityResult = (await queue.read(4)).readUInt32BE(0);
  let serverInit: ServerInit | null = null;
  let securityReason: string | null = null;
  if (securityResult === 0) {
    send(Buffer.from([0])); // ClientInit asking for exclusive access: the gateway must force shared.
    const head = await queue.read(24);
    const nameLength = head.readUInt32BE(20);
    const name = (await queue.read(nameLength)).toString('utf8');
    serverInit = { width: head.readUInt16BE(0), height: head.readUInt16BE(2), bitsPerPixel: head.readUInt8(4), name };
  } else {
    const reasonLength = (await queue.read(4)).readUInt32BE(0);
    securityReason = (await queue.read(reasonLength)).toString('utf8');
  }
  clearTimeout(timeout);

  const client: ScreenClient = {
    ws,
    offeredTypes,
    securityResult,
    securityReason,
    serverInit,
    closed,
    readPixels: (x, y, width, height) => readRawPixels(send, queue, x, y, width, height),
    requestPixels: (x, y, width, height) => requestRawPixels(send, x, y, width, height),
    nextPixels: () => receiveRawPixels(queue),
    pointer(x, y, buttons = 0) {
      const message = Buffer.alloc(6);
      message.writeUInt8(5, 0);
      message.writeUInt8(buttons, 1);
      message.writeUInt16BE(x, 2);
      message.writeUInt16BE(y, 4);
      send(message);
    },
    key(keysym, down) {
      const message = Buffer.alloc(8);
      message.writeUInt8(4, 0);
      message.writeUInt8(down ? 1 : 0, 1);
      message.writeUInt32BE(keysym, 4);
      send(message);
    },
    typeText(text) {
      for (const char of text) {
        const keysym = char === '\n' ? 0xff0d : (char.codePointAt(0) ?? 0);
        client.key(keysym, true);
        client.key(keysym, false);
      }
    },
    close: () => ws.close(),
  };
  return client;
}
