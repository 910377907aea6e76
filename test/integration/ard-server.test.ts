/**
 * A minimal RFB client, written here, against the fake server in test/helpers/ard-server.ts: both
 * authentication paths the gateway uses (ARD 30 with both group sizes macOS may pick, VncAuth 2),
 * refusals, and the post-init message parsing the gateway's tests will lean on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { getDiffieHellman } from 'node:crypto';
import { ByteQueue } from '../../server/src/protocols/byte-queue.js';
import { ardResponse, parseArdChallenge, vncAuthResponse } from '../../server/src/protocols/vnc/rfb-auth.js';
import { startFakeRfbServer, type FakeRfbServer, type FakeRfbServerOptions } from '../helpers/ard-server.js';

/** Bounds every test so a protocol mismatch fails instead of hanging the run. */
const TEST_TIMEOUT_MS = 20_000;
/** A few full frames of the small test desktops. */
const CLIENT_BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;
/** Key exchanges timed for the 4096-bit report; enough for a stable median. */
const TIMING_RUNS = 25;
/** Regression guard only (the target is well under 50 ms): createDiffieHellman(prime) takes seconds. */
const ARD_4096_CEILING_MS = 1_000;

const USERNAME = 'builder';
const PASSWORD = 'correct horse battery';
/** ServerInit pixel format the fake announces: 32 bpp, depth 24, little-endian true colour, R<<16 G<<8 B. */
const SERVER_PIXEL_FORMAT = Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);

interface RfbClient {
  readonly socket: net.Socket;
  read(bytes: number): Promise<Buffer>;
  readonly closed: Promise<void>;
}

interface AuthOutcome {
  readonly offered: number[];
  readonly result: number;
  readonly reason: string | null;
  readonly generator?: number;
  readonly keyLength?: number;
  readonly prime?: Buffer;
  readonly ardMs?: number;
}

interface ServerInit {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: Buffer;
  readonly name: string;
}

async function connect(server: FakeRfbServer): Promise<RfbClient> {
  const socket = net.connect({ host: server.host, port: server.port });
  const queue = new ByteQueue(CLIENT_BUFFER_LIMIT_BYTES);
  socket.on('data', (chunk: Buffer) => queue.push(chunk));
  // Resets are expected in the refusal tests; 'close' follows and is what they wait for.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      queue.fail(new Error('connection closed'));
      resolve();
    });
  });
  await once(socket, 'connect');
  return { socket, read: (bytes) => queue.read(bytes), closed };
}

async function authenticate(client: RfbClient, type: number, username: string, password: string): Promise<AuthOutcome> {
  assert.equal((await client.read(12)).toString('latin1'), 'RFB 003.889\n');
  client.socket.write('RFB 003.008\n');
  const count = (await client.read(1)).readUInt8(0);
  const offered = [...(await client.read(count))];
  client.socket.write(Buffer.from([type]));

  let details: Omit<AuthOutcome, 'offered' | 'result' | 'reason'> = {};
  if (!offered.includes(type)) {
    // Deliberately choosing something else: the server answers with the SecurityResult at once.
  } else if (type === 30) {
    const header = await client.read(4);
    const body = await client.read(2 * header.readUInt16BE(2));
    const parsed = parseArdChallenge(Buffer.concat([header, body]));
    assert.ok(parsed);
    const started = performance.now();
    const response = ardResponse(parsed.challenge, username, password);
    const ardMs = performance.now() - started;
    client.socket.write(response);
    details = { generator: parsed.challenge.generator, keyLength: parsed.challenge.keyLength, prime: parsed.challenge.prime, ardMs };
  } else if (type === 2) {
    client.socket.write(vncAuthResponse(password, await client.read(16)));
  }

  const result = (await client.read(4)).readUInt32BE(0);
  const reason = result === 0 ? null : (await client.read((await client.read(4)).readUInt32BE(0))).toString('utf8');
  return { offered, result, reason, ...details };
}

async function clientInit(client: RfbClient, shared: boolean): Promise<ServerInit> {
  client.socket.write(Buffer.from([shared ? 1 : 0]));
  const head = await client.read(20);
  const name = await client.read((await client.read(4)).readUInt32BE(0));
  return { width: head.readUInt16BE(0), height: head.readUInt16BE(2), pixelFormat: head.subarray(4, 20), name: name.toString('utf8') };
}

/** Reads one FramebufferUpdate that must hold a single full-screen Raw rectangle. */
async function readFullFrame(client: RfbClient, init: ServerInit, bytesPerPixel: number): Promise<Buffer> {
  const header = await client.read(4);
  assert.equal(header.readUInt8(0), 0, 'FramebufferUpdate');
  assert.equal(header.readUInt16BE(2), 1, 'one rectangle');
  const rect = await client.read(12);
  assert.deepEqual(
    [rect.readUInt16BE(0), rect.readUInt16BE(2), rect.readUInt16BE(4), rect.readUInt16BE(6), rect.readInt32BE(8)],
    [0, 0, init.width, init.height, 0],
  );
  return await client.read(init.width * init.height * bytesPerPixel);
}

function framebufferUpdateRequest(incremental: boolean, width: number, height: number): Buffer {
  const message = Buffer.alloc(10);
  message.writeUInt8(3, 0);
  message.writeUInt8(incremental ? 1 : 0, 1);
  message.writeUInt16BE(width, 6);
  message.writeUInt16BE(height, 8);
  return message;
}

function uniform(pixels: Buffer, pixel: readonly number[]): boolean {
  return pixels.equals(Buffer.alloc(pixels.length, Buffer.from(pixel)));
}

async function fakeServer(t: { after: (fn: () => Promise<void>) => void }, options: Partial<FakeRfbServerOptions> = {}): Promise<FakeRfbServer> {
  const server = await startFakeRfbServer({ username: USERNAME, password: PASSWORD, ...options });
  t.after(() => server.stop());
  return server;
}

test('ARD with g=2 and the 1024-bit Oakley group 2 reaches ServerInit and a frame', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t, { fill: [0x10, 0x20, 0x30] });
  const client = await connect(server);
  const auth = await authenticate(client, 30, USERNAME, PASSWORD);
  assert.deepEqual(auth.offered, [30, 2]);
  assert.equal(auth.generator, 2);
  assert.equal(auth.keyLength, 128);
  assert.deepEqual(auth.prime, server.prime);
  assert.deepEqual(server.prime, getDiffieHellman('modp2').getPrime(), 'the constant is RFC 2409 group 2');
  assert.equal(auth.result, 0);
  assert.equal(auth.reason, null);
  assert.deepEqual(server.attempts, [{ type: 30, ok: true, username: USERNAME }]);

  const init = await clientInit(client, true);
  assert.deepEqual(init, { width: 64, height: 48, pixelFormat: SERVER_PIXEL_FORMAT, name: 'Fake Mac' });
  assert.deepEqual(server.sharedFlags, [1]);

  const setEncodings = Buffer.from([2, 0, 0, 1, 0, 0, 0, 0]);
  const request = framebufferUpdateRequest(false, init.width, init.height);
  client.socket.write(Buffer.concat([setEncodings, request]));
  assert.ok(uniform(await readFullFrame(client, init, 4), [0x30, 0x20, 0x10, 0]), 'BGRX of the fill colour');
  assert.deepEqual(server.clientMessages, [setEncodings, request]);
  client.socket.destroy();
});

test('ARD with g=5 and the 4096-bit MODP group 16 (what macOS offers) works and is fast', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t, { generator: 5, keyLength: 512, width: 320, height: 200, desktopName: 'Big Sur' });
  assert.deepEqual(server.prime, getDiffieHellman('modp16').getPrime(), 'the constant is RFC 3526 group 16');
  const client = await connect(server);
  const auth = await authenticate(client, 30, USERNAME, PASSWORD);
  assert.equal(auth.generator, 5);
  assert.equal(auth.keyLength, 512);
  assert.equal(auth.result, 0);
  assert.deepEqual(server.attempts, [{ type: 30, ok: true, username: USERNAME }]);
  const init = await clientInit(client, false);
  assert.deepEqual([init.width, init.height, init.name], [320, 200, 'Big Sur']);
  assert.deepEqual(server.sharedFlags, [0]);
  client.socket.destroy();

  const parsed = parseArdChallenge(Buffer.concat([Buffer.from([0, 5, 2, 0]), server.prime, server.prime.subarray(0, 511), Buffer.from([7])]));
  assert.ok(parsed);
  const runs: number[] = [];
  for (let run = 0; run < TIMING_RUNS; run += 1) {
    const started = performance.now();
    ardResponse(parsed.challenge, USERNAME, PASSWORD);
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  const median = runs[Math.floor(runs.length / 2)] ?? Number.NaN;
  const worst = runs[runs.length - 1] ?? Number.NaN;
  console.log(
    `ardResponse, 512-byte key: handshake ${auth.ardMs?.toFixed(1)} ms; ${TIMING_RUNS} runs median ${median.toFixed(1)} ms, max ${worst.toFixed(1)} ms`,
  );
  assert.ok(median < ARD_4096_CEILING_MS, `median ${median} ms`);
});

test('a wrong ARD password gets SecurityResult 1 with the reason, then the server hangs up', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t);
  const client = await connect(server);
  const auth = await authenticate(client, 30, USERNAME, 'wrong');
  assert.equal(auth.result, 1);
  assert.equal(auth.reason, 'Authentication failed');
  await client.closed;
  assert.deepEqual(server.attempts, [{ type: 30, ok: false, username: USERNAME }]);
  assert.deepEqual(server.sharedFlags, []);
});

test('a wrong ARD username is refused too, and recorded as sent', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t);
  const client = await connect(server);
  const auth = await authenticate(client, 30, 'intruder', PASSWORD);
  assert.equal(auth.result, 1);
  assert.deepEqual(server.attempts, [{ type: 30, ok: false, username: 'intruder' }]);
  await client.closed;
});

test('VncAuth (type 2) reaches ServerInit with the configured screen', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t, { securityTypes: [2], width: 100, height: 30, desktopName: 'Bühne' });
  const client = await connect(server);
  const auth = await authenticate(client, 2, USERNAME, PASSWORD);
  assert.deepEqual(auth.offered, [2]);
  assert.equal(auth.result, 0);
  assert.deepEqual(server.attempts, [{ type: 2, ok: true }]);
  const init = await clientInit(client, true);
  assert.deepEqual(init, { width: 100, height: 30, pixelFormat: SERVER_PIXEL_FORMAT, name: 'Bühne' });
  client.socket.destroy();
});

test('a wrong VncAuth password gets SecurityResult 1 with the reason', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t);
  const client = await connect(server);
  const auth = await authenticate(client, 2, USERNAME, 'correct'); // the real one starts the same but is longer than 8
  assert.equal(auth.result, 1);
  assert.equal(auth.reason, 'Authentication failed');
  assert.deepEqual(server.attempts, [{ type: 2, ok: false }]);
  await client.closed;
});

test('a security type the server did not offer is refused', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t, { securityTypes: [30] });
  const client = await connect(server);
  const auth = await authenticate(client, 2, USERNAME, PASSWORD);
  assert.deepEqual([auth.result, auth.reason], [1, 'Security type not offered']);
  assert.deepEqual(server.attempts, [{ type: 2, ok: false }]);
  await client.closed;
});

test('client messages are split by their RFC 6143 lengths however TCP chunks them', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t, { fill: [0xff, 0x80, 0x01] });
  const client = await connect(server);
  assert.equal((await authenticate(client, 30, USERNAME, PASSWORD)).result, 0);
  const init = await clientInit(client, true);

  // noVNC's own format: red in the low byte.
  const setPixelFormat = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0])]);
  const setEncodings = Buffer.from([2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xfe, 0xc4]);
  const keyEvent = Buffer.from([4, 1, 0, 0, 0, 0, 0xff, 0x0d]);
  const pointerEvent = Buffer.from([5, 1, 0, 10, 0, 20]);
  const cutText = Buffer.concat([Buffer.from([6, 0, 0, 0, 0, 0, 0, 5]), Buffer.from('hello')]);
  const extendedCutText = Buffer.concat([Buffer.from([6, 0, 0, 0]), Buffer.from([0xff, 0xff, 0xff, 0xf6]), Buffer.alloc(10, 0xab)]);
  const emptyEncodings = Buffer.from([2, 0, 0, 0]);
  const request = framebufferUpdateRequest(true, init.width, init.height);
  const messages = [setPixelFormat, setEncodings, keyEvent, pointerEvent, cutText, extendedCutText, emptyEncodings, request];

  // Odd-sized pieces, so headers and bodies straddle writes whatever Nagle and the kernel merge.
  const stream = Buffer.concat(messages);
  for (let offset = 0; offset < stream.length; offset += 3) client.socket.write(stream.subarray(offset, offset + 3));
  assert.ok(uniform(await readFullFrame(client, init, 4), [0xff, 0x80, 0x01, 0]), 'RGBX after SetPixelFormat');
  assert.deepEqual(server.clientMessages, messages);
  client.socket.destroy();
});

test('an unknown client message type closes the connection', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const server = await fakeServer(t);
  const client = await connect(server);
  assert.equal((await authenticate(client, 30, USERNAME, PASSWORD)).result, 0);
  await clientInit(client, true);
  client.socket.write(Buffer.from([99, 0, 0, 0]));
  await client.closed;
  assert.deepEqual(server.clientMessages, []);
});

test('stop() is idempotent and drops connections still in the handshake', { timeout: TEST_TIMEOUT_MS }, async () => {
  const server = await startFakeRfbServer({ username: USERNAME, password: PASSWORD });
  const client = await connect(server);
  assert.equal((await client.read(12)).toString('latin1'), 'RFB 003.889\n');
  await Promise.all([server.stop(), server.stop()]);
  await server.stop();
  await client.closed;
  await assert.rejects(connect(server));
});
