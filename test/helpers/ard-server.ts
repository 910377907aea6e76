/**
 * A fake RFB server for tests: Apple's Diffie-Hellman authentication (type 30), which no Linux
 * package serves, plus VncAuth (2) and None (1), a fixed single-colour framebuffer, and a record of
 * everything the client did, for fault injection and for checking what the gateway forwards.
 *
 * The server half of type 30 is written independently of the gateway's client half (its own
 * modPow, OpenSSL for MD5/AES), so a shared misunderstanding of the protocol is less likely to
 * cancel out; its output format is pinned by noVNC's test vector in test/unit/rfb-auth.test.ts.
 */
import net from 'node:net';
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ByteQueue } from '../../server/src/protocols/byte-queue.js';
import { vncAuthResponse } from '../../server/src/protocols/vnc/rfb-auth.js';

/** RFC 2409 §6.2, Oakley group 2: the 1024-bit MODP prime (a safe prime, generator 2). */
const OAKLEY_GROUP_2_PRIME_HEX =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd' +
  'ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece65381ffffffffffffffff';
/** RFC 3526 §5, MODP group 16: the 4096-bit prime, the size macOS offers (with generator 5). */
const MODP_GROUP_16_PRIME_HEX =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd' +
  'ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f' +
  '83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b' +
  'e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa0510' +
  '15728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7' +
  'abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200c' +
  'bbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a92108011a723c12a787e6d7' +
  '88719a10bdba5b2699c327186af4e23c1a946834b6150bda2583e9ca2ad44ce8dbbbc2db04de8ef92e8efc141fbecaa6' +
  '287c59474e6bc05d99b2964fa090c3a2233ba186515be7ed1f612970cee2d7afb81bdd762170481cd0069127d5b05aa9' +
  '93b4ea988d8fddc186ffb7dc90a6c08f4df435c934063199ffffffffffffffff';
const PRIME_HEX_BY_KEY_BYTES: ReadonlyMap<number, string> = new Map([
  [128, OAKLEY_GROUP_2_PRIME_HEX],
  [512, MODP_GROUP_16_PRIME_HEX],
]);

const SECURITY_NONE = 1;
const SECURITY_VNC_AUTH = 2;
const SECURITY_ARD = 30;
/** "RFB 003.008\n" */
const VERSION_BYTES = 12;
/** RFC 6143 §7.2.2. */
const VNC_CHALLENGE_BYTES = 16;
/** Two 64-byte NUL-terminated fields (username, password), AES-128-ECB encrypted. */
const ARD_CREDENTIALS_BYTES = 128;
const ARD_FIELD_BYTES = 64;
/** Same short-exponent choice as the client: plenty for a test, cheap on 4096-bit groups. */
const SERVER_PRIVATE_KEY_BYTES = 32;
/** The reason macOS-like servers give; RFB 3.8 sends it after a failed SecurityResult. */
const AUTH_FAILED_REASON = 'Authentication failed';
const NO_TYPES_REASON = 'No supported security types';
const TYPE_NOT_OFFERED_REASON = 'Security type not offered';
/** Matches the gateway's view-only filter: a longer clipboard announcement is hostile. */
const MAX_CUT_TEXT_BYTES = 16 * 1024 * 1024;
/** Room for the largest message plus whatever a pipelining client sends behind it. */
const CLIENT_BUFFER_LIMIT_BYTES = 4 * MAX_CUT_TEXT_BYTES;

const DEFAULT_WIDTH = 64;
const DEFAULT_HEIGHT = 48;
const DEFAULT_NAME = 'Fake Mac';
const DEFAULT_FILL: readonly [number, number, number] = [0x33, 0x66, 0x99];

const ClientMessage = {
  setPixelFormat: 0,
  setEncodings: 2,
  framebufferUpdateRequest: 3,
  keyEvent: 4,
  pointerEvent: 5,
  clientCutText: 6,
} as const;

export interface FakeRfbServerOptions {
  readonly username: string;
  readonly password: string;
  /** ARD Diffie-Hellman generator; default 2. */
  readonly generator?: number;
  /** ARD key length in bytes: 128 (1024-bit Oakley group 2, default) or 512 (4096-bit MODP group 16). */
  readonly keyLength?: number;
  /** Offered in this order; default [30, 2]. An empty list makes the server refuse every client. */
  readonly securityTypes?: readonly number[];
  /** Default 'RFB 003.889\n', as macOS sends. */
  readonly banner?: string;
  readonly width?: number;
  readonly height?: number;
  readonly desktopName?: string;
  /** RGB of the framebuffer. */
  readonly fill?: readonly [number, number, number];
  /** Fault injection: the reason sent with a failed SecurityResult (default "Authentication failed"). */
  readonly failureReason?: string;
  /** Fault injection: sent instead of a well-formed ServerInit. */
  readonly serverInit?: Buffer;
  /** Fault injection: written right after the first FramebufferUpdate (garbage, lying lengths). */
  readonly afterFirstUpdate?: Buffer;
}

export interface AuthAttempt {
  readonly type: number;
  readonly ok: boolean;
  /** The username the client sent (type 30 only). */
  readonly username?: string;
}

export interface FakeRfbServer {
  readonly host: string;
  readonly port: number;
  /** The ARD prime the server sends. */
  readonly prime: Buffer;
  /** Results of each authentication attempt, in order. */
  readonly attempts: AuthAttempt[];
  /** Every client-to-server message after ClientInit, raw. */
  readonly clientMessages: Buffer[];
  /** Shared flag from each ClientInit. */
  readonly sharedFlags: number[];
  /** Idempotent; closes the listener and every connection. */
  stop(): Promise<void>;
}

interface PixelFormat {
  readonly bitsPerPixel: number;
  readonly depth: number;
  readonly bigEndian: boolean;
  readonly trueColour: boolean;
  readonly redMax: number;
  readonly greenMax: number;
  readonly blueMax: number;
  readonly redShift: number;
  readonly greenShift: number;
  readonly blueShift: number;
}

/** 32 bpp depth 24 little-endian true colour: pixels travel as B, G, R, X. */
const SERVER_PIXEL_FORMAT: PixelFormat = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
};

interface Settings {
  readonly username: string;
  readonly password: string;
  readonly generator: bigint;
  readonly keyLength: number;
  readonly prime: Buffer;
  readonly securityTypes: readonly number[];
  readonly banner: string;
  readonly width: number;
  readonly height: number;
  readonly desktopName: string;
  readonly fill: readonly [number, number, number];
  readonly failureReason: string;
  readonly serverInit: Buffer | null;
  readonly afterFirstUpdate: Buffer | null;
}

/** The client broke the protocol; the connection is dropped without a reply. */
class ProtocolViolation extends Error {}

export async function startFakeRfbServer(options: FakeRfbServerOptions): Promise<FakeRfbServer> {
  const keyLength = options.keyLength ?? 128;
  const primeHex = PRIME_HEX_BY_KEY_BYTES.get(keyLength);
  if (primeHex === undefined) throw new RangeError(`no built-in prime of ${keyLength} bytes (have ${[...PRIME_HEX_BY_KEY_BYTES.keys()].join(', ')})`);
  const settings: Settings = {
    username: options.username,
    password: options.password,
    generator: BigInt(options.generator ?? 2),
    keyLength,
    prime: Buffer.from(primeHex, 'hex'),
    securityTypes: options.securityTypes ?? [SECURITY_ARD, SECURITY_VNC_AUTH],
    banner: options.banner ?? 'RFB 003.889\n',
    width: options.width ?? DEFAULT_WIDTH,
    height: options.height ?? DEFAULT_HEIGHT,
    desktopName: options.desktopName ?? DEFAULT_NAME,
    failureReason: options.failureReason ?? AUTH_FAILED_REASON,
    serverInit: options.serverInit ?? null,
    afterFirstUpdate: options.afterFirstUpdate ?? null,
    fill: options.fill ?? DEFAULT_FILL,
  };
  const attempts: AuthAttempt[] = [];
  const clientMessages: Buffer[] = [];
  const sharedFlags: number[] = [];
  const record = { attempts, clientMessages, sharedFlags };
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const queue = new ByteQueue(CLIENT_BUFFER_LIMIT_BYTES);
    socket.on('data', (chunk: Buffer) => queue.push(chunk));
    socket.once('end', () => queue.fail(new Error('client closed')));
    // Resets from clients that hang up mid-handshake are part of the tests, not failures.
    socket.on('error', () => queue.fail(new Error('socket error')));
    socket.once('close', () => {
      sockets.delete(socket);
      queue.fail(new Error('socket closed'));
    });
    serve(socket, queue, settings, record).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected listen address ${String(address)}`);

  let stopped: Promise<void> | null = null;
  return {
    host: address.address,
    port: address.port,
    prime: Buffer.from(settings.prime),
    attempts,
    clientMessages,
    sharedFlags,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}

async function serve(
  socket: net.Socket,
  queue: ByteQueue,
  settings: Settings,
  record: { attempts: AuthAttempt[]; clientMessages: Buffer[]; sharedFlags: number[] },
): Promise<void> {
  socket.write(settings.banner, 'latin1');
  const minor = clientMinorVersion((await queue.read(VERSION_BYTES)).toString('latin1'));

  let chosen: number;
  if (minor === 3) {
    // 3.3: the server picks; only the first configured type is used.
    const type = settings.securityTypes[0];
    if (type === undefined) {
      socket.end(Buffer.concat([u32(0), reason(NO_TYPES_REASON)]));
      return;
    }
    socket.write(u32(type));
    chosen = type;
  } else {
    if (settings.securityTypes.length === 0) {
      socket.end(Buffer.concat([Buffer.from([0]), reason(NO_TYPES_REASON)]));
      return;
    }
    socket.write(Buffer.from([settings.securityTypes.length, ...settings.securityTypes]));
    chosen = (await queue.read(1)).readUInt8(0);
  }

  let attempt: AuthAttempt;
  if (!settings.securityTypes.includes(chosen)) attempt = { type: chosen, ok: false };
  else if (chosen === SECURITY_ARD) attempt = await authenticateArd(socket, queue, settings);
  else if (chosen === SECURITY_VNC_AUTH) attempt = await authenticateVnc(socket, queue, settings);
  else if (chosen === SECURITY_NONE) attempt = { type: SECURITY_NONE, ok: true };
  else attempt = { type: chosen, ok: false };
  record.attempts.push(attempt);

  if (!attempt.ok) {
    const why = settings.securityTypes.includes(chosen) ? settings.failureReason : TYPE_NOT_OFFERED_REASON;
    socket.end(minor === 8 ? Buffer.concat([u32(1), reason(why)]) : u32(1));
    return;
  }
  // RFB 3.3 and 3.7 have no SecurityResult after None.
  if (chosen !== SECURITY_NONE || minor === 8) socket.write(u32(0));

  record.sharedFlags.push((await queue.read(1)).readUInt8(0));
  socket.write(settings.serverInit ?? serverInit(settings));
  await serveMessages(socket, queue, settings, record.clientMessages);
}

function clientMinorVersion(version: string): 3 | 7 | 8 {
  const minor = /^RFB 003\.(\d{3})\n$/.exec(version)?.[1];
  if (minor === undefined) throw new ProtocolViolation(`bad client version ${JSON.stringify(version)}`);
  const number = Number(minor);
  // RFC 6143 §7.1.1: unknown minors below 7 mean 3.3; anything newer is answered as 3.8.
  if (number >= 8) return 8;
  return number === 7 ? 7 : 3;
}

async function authenticateVnc(socket: net.Socket, queue: ByteQueue, settings: Settings): Promise<AuthAttempt> {
  const challenge = randomBytes(VNC_CHALLENGE_BYTES);
  socket.write(challenge);
  const response = await queue.read(VNC_CHALLENGE_BYTES);
  return { type: SECURITY_VNC_AUTH, ok: response.equals(vncAuthResponse(settings.password, challenge)) };
}

async function authenticateArd(socket: net.Socket, queue: ByteQueue, settings: Settings): Promise<AuthAttempt> {
  const { keyLength, prime } = settings;
  const p = bigIntFromBytes(prime);
  const privateKey = bigIntFromBytes(randomBytes(SERVER_PRIVATE_KEY_BYTES));
  const header = Buffer.alloc(4);
  header.writeUInt16BE(Number(settings.generator), 0);
  header.writeUInt16BE(keyLength, 2);
  socket.write(Buffer.concat([header, prime, bytesFromBigInt(modPow(settings.generator, privateKey, p), keyLength)]));

  const response = await queue.read(ARD_CREDENTIALS_BYTES + keyLength);
  const clientPublicKey = bigIntFromBytes(response.subarray(ARD_CREDENTIALS_BYTES));
  if (clientPublicKey < 2n || clientPublicKey >= p - 1n) return { type: SECURITY_ARD, ok: false };
  const sharedSecret = bytesFromBigInt(modPow(clientPublicKey, privateKey, p), keyLength);
  const decipher = createDecipheriv('aes-128-ecb', createHash('md5').update(sharedSecret).digest(), null);
  decipher.setAutoPadding(false);
  const block = Buffer.concat([decipher.update(response.subarray(0, ARD_CREDENTIALS_BYTES)), decipher.final()]);
  const username = nulTerminated(block.subarray(0, ARD_FIELD_BYTES));
  const password = nulTerminated(block.subarray(ARD_FIELD_BYTES));
  const ok = username.equals(Buffer.from(settings.username, 'utf8')) && password.equals(Buffer.from(settings.password, 'utf8'));
  return { type: SECURITY_ARD, ok, username: username.toString('utf8') };
}

async function serveMessages(socket: net.Socket, queue: ByteQueue, settings: Settings, messages: Buffer[]): Promise<void> {
  let format = SERVER_PIXEL_FORMAT;
  let frame: Buffer | null = null;
  let hostile = settings.afterFirstUpdate;
  for (;;) {
    const type = (await queue.read(1)).readUInt8(0);
    const parts: Buffer[] = [Buffer.from([type])];
    const read = async (bytes: number): Promise<Buffer> => {
      const part = bytes === 0 ? Buffer.alloc(0) : await queue.read(bytes);
      parts.push(part);
      return part;
    };
    switch (type) {
      case ClientMessage.setPixelFormat: {
        const body = await read(19);
        format = parsePixelFormat(body.subarray(3));
        frame = null;
        break;
      }
      case ClientMessage.setEncodings: {
        const head = await read(3);
        await read(4 * head.readUInt16BE(1));
        break;
      }
      case ClientMessage.framebufferUpdateRequest:
        await read(9);
        break;
      case ClientMessage.keyEvent:
        await read(7);
        break;
      case ClientMessage.pointerEvent:
        await read(5);
        break;
      case ClientMessage.clientCutText: {
        const head = await read(7);
        // A negative length announces the extended-clipboard format; its payload is |length| bytes.
        const length = Math.abs(head.readInt32BE(3));
        if (length > MAX_CUT_TEXT_BYTES) throw new ProtocolViolation(`clipboard of ${length} bytes`);
        await read(length);
        break;
      }
      default:
        // RFB messages carry no length, so an unknown type leaves no way to find the next one.
        socket.destroy();
        return;
    }
    messages.push(Buffer.concat(parts));
    if (type === ClientMessage.framebufferUpdateRequest) {
      frame ??= framebufferUpdate(settings, format);
      socket.write(frame);
      if (hostile) socket.write(hostile);
      hostile = null;
    }
  }
}

function serverInit(settings: Settings): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(settings.width, 0);
  head.writeUInt16BE(settings.height, 2);
  const name = Buffer.from(settings.desktopName, 'utf8');
  return Buffer.concat([head, encodePixelFormat(SERVER_PIXEL_FORMAT), u32(name.length), name]);
}

/** One Raw rectangle (encoding 0) covering the whole screen in the fill colour. */
function framebufferUpdate(settings: Settings, format: PixelFormat): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt8(0, 0);
  header.writeUInt16BE(1, 2);
  header.writeUInt16BE(0, 4);
  header.writeUInt16BE(0, 6);
  header.writeUInt16BE(settings.width, 8);
  header.writeUInt16BE(settings.height, 10);
  header.writeInt32BE(0, 12);
  const pixel = encodePixel(settings.fill, format);
  const pixels = Buffer.alloc(settings.width * settings.height * pixel.length, pixel);
  return Buffer.concat([header, pixels]);
}

function encodePixel([red, green, blue]: readonly [number, number, number], format: PixelFormat): Buffer {
  const scale = (value: number, max: number): number => Math.round((value * max) / 255);
  const value =
    ((scale(red, format.redMax) << format.redShift) | (scale(green, format.greenMax) << format.greenShift) | (scale(blue, format.blueMax) << format.blueShift)) >>> 0;
  const bytes = format.bitsPerPixel / 8;
  const pixel = Buffer.alloc(bytes);
  if (format.bigEndian) pixel.writeUIntBE(value, 0, bytes);
  else pixel.writeUIntLE(value, 0, bytes);
  return pixel;
}

function encodePixelFormat(format: PixelFormat): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt8(format.bitsPerPixel, 0);
  bytes.writeUInt8(format.depth, 1);
  bytes.writeUInt8(format.bigEndian ? 1 : 0, 2);
  bytes.writeUInt8(format.trueColour ? 1 : 0, 3);
  bytes.writeUInt16BE(format.redMax, 4);
  bytes.writeUInt16BE(format.greenMax, 6);
  bytes.writeUInt16BE(format.blueMax, 8);
  bytes.writeUInt8(format.redShift, 10);
  bytes.writeUInt8(format.greenShift, 11);
  bytes.writeUInt8(format.blueShift, 12);
  return bytes;
}

/** Honoured so a real noVNC (which asks for red in the low byte) sees the intended colour. */
function parsePixelFormat(bytes: Buffer): PixelFormat {
  const format: PixelFormat = {
    bitsPerPixel: bytes.readUInt8(0),
    depth: bytes.readUInt8(1),
    bigEndian: bytes.readUInt8(2) !== 0,
    trueColour: bytes.readUInt8(3) !== 0,
    redMax: bytes.readUInt16BE(4),
    greenMax: bytes.readUInt16BE(6),
    blueMax: bytes.readUInt16BE(8),
    redShift: bytes.readUInt8(10),
    greenShift: bytes.readUInt8(11),
    blueShift: bytes.readUInt8(12),
  };
  // Colour maps and odd pixel sizes are more than a fake needs; refusing beats wrong pixels.
  if (!format.trueColour || ![8, 16, 32].includes(format.bitsPerPixel)) {
    throw new ProtocolViolation(`unsupported pixel format ${format.bitsPerPixel} bpp, true colour ${format.trueColour}`);
  }
  return format;
}

function nulTerminated(field: Buffer): Buffer {
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end));
}

function reason(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

/** Plain right-to-left square-and-multiply, deliberately not the gateway's windowed version. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = base % modulus;
  for (let rest = exponent; rest > 0n; rest >>= 1n) {
    if ((rest & 1n) === 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

function bigIntFromBytes(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function bytesFromBigInt(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}
