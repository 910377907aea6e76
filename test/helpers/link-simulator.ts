/**
 * A slow network between two loopback parties (issue #19): a TCP relay that adds round-trip
 * latency and caps bandwidth in each direction, for tests and `bench/` (this machine's kernel has
 * no netem, so the shaping is done here, in user space).
 *
 * Model: each direction is a link with a serialisation rate (`mbitPerSecond`) followed by a fixed
 * one-way delay (half the RTT). Bytes read from one side are cut into slices of at most
 * SLICE_BYTES; a slice leaves the link when the previous one has been serialised and arrives
 * `rttMs / 2` later. The reading side is paused while more than the link's queue limit is in
 * flight (a bandwidth-delay product plus a router's buffer), so a sender meets backpressure the
 * way it would meet a full TCP window, instead of the relay buffering without bound.
 *
 * Accuracy (test/unit/link-simulator.test.ts prints it; on this 2-core machine under other work,
 * load average 5–10): Node's timers fire late under load, so a 40 ms RTT came out 43–60 ms; a
 * 20 Mbit/s cap moved 512 KiB at 84–90 % of the cap (timer lateness per 16 KiB slice). Never
 * faster than the profile. Not modelled: packet loss, jitter, reordering, and the sender's TCP
 * congestion control (a real link's slow start would make short transfers slower still).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface LinkProfile {
  /** Round-trip time added (ms); split evenly between the two directions. */
  readonly rttMs: number;
  /** Each direction's bandwidth cap (Mbit/s); null: unlimited (latency only). */
  readonly mbitPerSecond: number | null;
}

/** The links issue #19's WAN bench compares. */
export const LINK_PROFILES = {
  lan: { rttMs: 0, mbitPerSecond: null },
  broadband: { rttMs: 40, mbitPerSecond: 20 },
  slow: { rttMs: 150, mbitPerSecond: 5 },
} as const satisfies Record<string, LinkProfile>;

/** Pacing granularity: at 5 Mbit/s a 16 KiB slice is 26 ms on the wire, fine against the RTTs modelled. */
const SLICE_BYTES = 16 * 1024;
/** Beyond the bandwidth-delay product, what a router on the path would queue before the sender feels it. */
const QUEUE_EXTRA_BYTES = 64 * 1024;
const BITS_PER_BYTE = 8;
const MS_PER_SECOND = 1_000;
const BITS_PER_MEGABIT = 1_000_000;

/** When a slice of `bytes` arrives at the far end, given when the link becomes free to send it. */
export function sliceTimes(now: number, linkFreeAt: number, bytes: number, profile: LinkProfile): { readonly sentAt: number; readonly arrivesAt: number } {
  const start = Math.max(now, linkFreeAt);
  const serialiseMs = profile.mbitPerSecond === null ? 0 : (bytes * BITS_PER_BYTE * MS_PER_SECOND) / (profile.mbitPerSecond * BITS_PER_MEGABIT);
  const sentAt = start + serialiseMs;
  return { sentAt, arrivesAt: sentAt + profile.rttMs / 2 };
}

/** Bytes one direction holds before it pauses its reader. */
export function queueLimitBytes(profile: LinkProfile): number {
  if (profile.mbitPerSecond === null) return QUEUE_EXTRA_BYTES + SLICE_BYTES;
  const bdp = (profile.mbitPerSecond * BITS_PER_MEGABIT * (profile.rttMs / MS_PER_SECOND)) / BITS_PER_BYTE;
  return Math.ceil(bdp) + QUEUE_EXTRA_BYTES;
}

export interface LinkSimulator {
  readonly host: string;
  readonly port: number;
  /** Takes effect for bytes read from now on, in both directions of every connection. */
  setProfile(profile: LinkProfile): void;
  close(): Promise<void>;
}

export async function startLinkSimulator(target: { readonly host: string; readonly port: number }, initial: LinkProfile): Promise<LinkSimulator> {
  let profile = initial;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    pipeThroughLink(client, upstream, () => profile);
    pipeThroughLink(upstream, client, () => profile);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    setProfile(next) {
      profile = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** One direction: `from`'s bytes reach `to` paced and delayed, in order; `from` pauses while the link is full or `to` is. */
function pipeThroughLink(from: net.Socket, to: net.Socket, currentProfile: () => LinkProfile): void {
  const queue: { readonly slice: Buffer; readonly arrivesAt: number }[] = [];
  let linkFreeAt = 0;
  let inFlight = 0;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;

  const maybeResume = (): void => {
    if (from.isPaused() && inFlight <= queueLimitBytes(currentProfile()) && !to.writableNeedDrain) from.resume();
  };
  // One timer for the queue's head: slices leave strictly in the order they came.
  const deliver = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0]?.arrivesAt ?? 0) <= now) {
      const { slice } = queue.shift() as { slice: Buffer };
      inFlight -= slice.length;
      if (!to.destroyed) to.write(slice);
    }
    const head = queue[0];
    if (head) timer = setTimeout(deliver, Math.max(0, head.arrivesAt - now));
    else if (ended) to.end();
    maybeResume();
  };
  to.on('drain', maybeResume);
  to.once('close', () => clearTimeout(timer));

  from.on('data', (chunk: Buffer) => {
    const profile = currentProfile();
    for (let offset = 0; offset < chunk.length; offset += SLICE_BYTES) {
      const slice = chunk.subarray(offset, offset + SLICE_BYTES);
      const times = sliceTimes(performance.now(), linkFreeAt, slice.length, profile);
      linkFreeAt = times.sentAt;
      // A profile change that shortens the delay must not let later bytes overtake earlier ones.
      const arrivesAt = Math.max(times.arrivesAt, queue.at(-1)?.arrivesAt ?? 0);
      queue.push({ slice, arrivesAt });
      inFlight += slice.length;
    }
    if (timer === undefined) deliver();
    if (inFlight > queueLimitBytes(profile) || to.writableNeedDrain) from.pause();
  });
  from.once('end', () => {
    ended = true;
    if (queue.length === 0) to.end();
  });
}
