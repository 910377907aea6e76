import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { binaryFrameHeaderBytes, frameInPlace, MAX_BINARY_FRAME_HEADER_BYTES, sendBinaryInPlace } from '../../server/src/protocols/raw-binary-frame.js';

/** A payload at the end of a buffer with `room` bytes before it, as a pooled read leaves it. */
function withRoom(payload: Buffer, room = MAX_BINARY_FRAME_HEADER_BYTES): Buffer {
  const buffer = Buffer.alloc(room + payload.length, 0xee);
  payload.copy(buffer, room);
  return buffer.subarray(room);
}

function patterned(bytes: number): Buffer {
  const payload = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) payload[i] = (i * 31 + 7) & 0xff;
  return payload;
}

/** A real ws server and client; `serve` gets the server's end of the one connection. */
async function connect(options: Partial<ServerOptions> = {}, clientDeflate = false): Promise<{ server: WebSocket; client: WebSocket; stop: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, ...options });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: clientDeflate });
  await once(client, 'open');
  const [server] = await accepted;
  return {
    server,
    client,
    stop: async () => {
      client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Sends in place, waiting for the write's callback; fails the test when the fast path is refused. */
function sendRaw(ws: WebSocket, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const taken = sendBinaryInPlace(ws, withRoom(payload), MAX_BINARY_FRAME_HEADER_BYTES, (error) => (error ? reject(error) : resolve()));
    if (!taken) reject(new Error('fast path refused'));
  });
}

function collect(client: WebSocket): { events: string[]; messages: Buffer[] } {
  const events: string[] = [];
  const messages: Buffer[] = [];
  client.on('message', (data, isBinary) => {
    const bytes = data as Buffer;
    messages.push(bytes);
    events.push(`${isBinary ? 'binary' : 'text'}:${bytes.length}`);
  });
  client.on('ping', (data) => events.push(`ping:${String(data)}`));
  return { events, messages };
}

test('the header is 2, 4 or 10 bytes at the RFC 6455 boundaries', () => {
  assert.deepEqual(
    [0, 125, 126, 65535, 65536].map((n) => binaryFrameHeaderBytes(n)),
    [2, 2, 4, 4, 10],
  );
});

test('a ws client parses frames written in place at every length boundary, byte for byte', async () => {
  const { server, client, stop } = await connect();
  const { messages } = collect(client);
  const sizes = [0, 1, 125, 126, 127, 65535, 65536, 65526, 200_000];
  for (const size of sizes) await sendRaw(server, patterned(size));
  while (messages.length < sizes.length) await once(client, 'message');
  assert.deepEqual(
    messages.map((m) => m.length),
    sizes,
  );
  for (const [i, size] of sizes.entries()) assert.ok(messages[i]?.equals(patterned(size)), `payload of ${size} bytes intact`);
  await stop();
});

test('frames written in place interleave with ws’s own messages, pings and close in call order', async () => {
  const { server, client, stop } = await connect();
  const { events } = collect(client);
  const closed = once(client, 'close') as Promise<[number, Buffer]>;
  const first = sendRaw(server, patterned(70_000));
  server.ping(Buffer.from('p1'));
  server.send(Buffer.from('via ws'), { binary: true });
  const second = sendRaw(server, patterned(126));
  server.send('text');
  const third = sendRaw(server, patterned(3));
  server.close(4000, 'done');
  await Promise.all([first, second, third]);
  const [code] = await closed;
  assert.equal(code, 4000);
  assert.deepEqual(events, ['binary:70000', 'ping:p1', 'binary:6', 'binary:126', 'text:4', 'binary:3']);
  await stop();
});

test('the fast path is refused (nothing written) without room, once closing, and with deflate negotiated', async () => {
  const plain = await connect();
  const tight = withRoom(patterned(200), 3);
  assert.equal(frameInPlace(tight, 3), null, 'a 4-byte header does not fit in 3');
  assert.equal(
    sendBinaryInPlace(plain.server, tight, 3, () => assert.fail('not called')),
    false,
  );
  plain.server.close();
  assert.equal(
    sendBinaryInPlace(plain.server, withRoom(patterned(5)), MAX_BINARY_FRAME_HEADER_BYTES, () => assert.fail('not called')),
    false,
    'after the close frame no data frame may follow',
  );
  await plain.stop();

  const deflated = await connect({ perMessageDeflate: true }, true);
  assert.notEqual(deflated.server.extensions, '');
  assert.equal(
    sendBinaryInPlace(deflated.server, withRoom(patterned(5)), MAX_BINARY_FRAME_HEADER_BYTES, () => assert.fail('not called')),
    false,
  );
  await deflated.stop();
});

test('bytes written in place count in bufferedAmount until the socket takes them, as ws.send’s do', async () => {
  const { server, client, stop } = await connect();
  client.pause();
  const payload = patterned(1024 * 1024);
  // Loopback takes a few MiB before the socket queues: send until it does.
  while (server.bufferedAmount === 0) {
    assert.equal(
      sendBinaryInPlace(server, withRoom(payload), MAX_BINARY_FRAME_HEADER_BYTES, () => undefined),
      true,
    );
  }
  let last!: () => void;
  const lastWritten = new Promise<void>((resolve) => (last = resolve));
  assert.equal(
    sendBinaryInPlace(server, withRoom(patterned(5)), MAX_BINARY_FRAME_HEADER_BYTES, () => last()),
    true,
    'a queue in the socket (not in ws’s sender) does not refuse the fast path',
  );
  assert.ok(server.bufferedAmount > 0);
  client.resume();
  await lastWritten;
  assert.equal(server.bufferedAmount, 0, 'taken by the socket when the last callback runs');
  await stop();
});
