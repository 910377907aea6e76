/**
 * The link simulator's model and its accuracy on loopback. Timings are asserted only where they
 * cannot be early (a link never beats its own RTT or bandwidth); how late they come out on this
 * machine is printed, for the accuracy note in test/helpers/link-simulator.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { queueLimitBytes, sliceTimes, startLinkSimulator, type LinkSimulator } from '../helpers/link-simulator.js';

/** Generous: loaded CI machines fire timers late, and this only guards against a link that does not delay at all. */
const LATE_SLACK_MS = 500;

let echo: net.Server;
let echoPort: number;
let link: LinkSimulator;

before(async () => {
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((done) => echo.listen(0, '127.0.0.1', done));
  echoPort = (echo.address() as AddressInfo).port;
  link = await startLinkSimulator({ host: '127.0.0.1', port: echoPort }, { rttMs: 0, mbitPerSecond: null });
});
after(async () => {
  await link.close();
  await new Promise<void>((done) => echo.close(() => done()));
});

test('the model: serialisation at the cap, then half the RTT; the queue holds a bandwidth-delay product and a router buffer', () => {
  const profile = { rttMs: 40, mbitPerSecond: 8 };
  assert.deepEqual(sliceTimes(100, 0, 1_000, profile), { sentAt: 101, arrivesAt: 121 });
  assert.deepEqual(sliceTimes(100, 150, 1_000, profile), { sentAt: 151, arrivesAt: 171 }, 'a busy link sends after what is ahead');
  assert.deepEqual(sliceTimes(100, 0, 1_000, { rttMs: 0, mbitPerSecond: null }), { sentAt: 100, arrivesAt: 100 });
  assert.equal(queueLimitBytes({ rttMs: 40, mbitPerSecond: 20 }), 100_000 + 64 * 1024);
});

async function connect(): Promise<net.Socket> {
  const socket = net.connect(link.port, link.host);
  socket.setNoDelay(true);
  await once(socket, 'connect');
  return socket;
}

/** Sends `bytes` and resolves when all of them have come back, with the elapsed milliseconds. */
async function roundTrip(socket: net.Socket, bytes: Buffer): Promise<{ ms: number; received: Buffer }> {
  const parts: Buffer[] = [];
  let got = 0;
  const started = performance.now();
  const done = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= bytes.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(bytes);
  await done;
  return { ms: performance.now() - started, received: Buffer.concat(parts) };
}

test('a small message comes back no sooner than the RTT', async () => {
  link.setProfile({ rttMs: 40, mbitPerSecond: null });
  const socket = await connect();
  const times: number[] = [];
  // There through one direction of the link, back through the other: one RTT.
  for (let i = 0; i < 5; i += 1) times.push((await roundTrip(socket, Buffer.from([i]))).ms);
  socket.destroy();
  for (const ms of times) assert.ok(ms >= 40 - 1 && ms < 40 + LATE_SLACK_MS, `${ms} ms`);
  console.log(`link simulator: 40 ms RTT, a byte echoed: ${times.map((t) => t.toFixed(1)).join(', ')} ms (ideal 40)`);
});

test('bulk data moves no faster than the cap, in order, across a profile change', async () => {
  link.setProfile({ rttMs: 10, mbitPerSecond: 20 });
  const socket = await connect();
  const payload = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < payload.length; i += 1) payload[i] = (i * 7 + (i >> 10)) & 0xff;
  const pending = roundTrip(socket, payload);
  // Mid-stream the link gets faster: later bytes must still not overtake earlier ones.
  setImmediate(() => link.setProfile({ rttMs: 2, mbitPerSecond: 40 }));
  const { ms, received } = await pending;
  socket.destroy();
  assert.ok(received.equals(payload), 'every byte, in order');
  // The echo overlaps the two directions: at best the megabyte crossed once at 40 Mbit/s.
  const fastestMs = (payload.length * 8) / 40_000;
  assert.ok(ms >= fastestMs, `${ms} ms < ${fastestMs} ms: faster than the cap`);
  console.log(`link simulator: 1 MiB echoed at 20→40 Mbit/s in ${ms.toFixed(0)} ms (no faster than ${fastestMs.toFixed(0)} ms)`);
});

test('a capped link alone: throughput within the cap', async () => {
  link.setProfile({ rttMs: 0, mbitPerSecond: 20 });
  const socket = await connect();
  const payload = Buffer.alloc(512 * 1024, 1);
  const { ms } = await roundTrip(socket, payload);
  socket.destroy();
  // Each direction carries it once at the cap, the two overlapping.
  const idealMs = (payload.length * 8) / 20_000;
  assert.ok(ms >= idealMs - 1, `${ms} ms: faster than the cap (${idealMs} ms)`);
  console.log(`link simulator: 512 KiB echoed at 20 Mbit/s in ${ms.toFixed(0)} ms (ideal ${idealMs.toFixed(0)} ms, ${((100 * (ms - idealMs)) / idealMs).toFixed(1)} % over)`);
});
