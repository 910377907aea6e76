/**
 * Keystroke echo: single bytes into `cat` in a remote PTY, timed from the write to the echoed
 * byte's arrival, in this process (the clock must be the one that sent the key).
 *
 *   gateway  WebSocket through the gateway, acknowledging output as the page does
 *   ssh2     the ssh2 library direct
 *   openssh  `ssh -tt` inside a local PTY (`script`), as in a terminal emulator
 */
import ssh2 from 'ssh2';
import { AckCounter } from '../../client/src/terminal/flow-control.js';
import type { BenchGateway, SshEndpoint } from './gateway-process.js';
import { spawnOpenssh } from './shell-legs.js';
import { withDeadline } from './deadline.js';
import { MarkerScanner, commandWithMarker } from './marker.js';

export interface EchoLeg {
  readonly name: 'gateway' | 'ssh2' | 'openssh';
  send(bytes: Buffer): void;
  /** Replaces the data listener. */
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

const KEY_INTERVAL_MS = 20;
/** A keystroke not echoed in this long means the leg is broken, not slow. */
const ECHO_TIMEOUT_MS = 10_000;
const CAT_READY_TIMEOUT_MS = 30_000;

/** Turns the shell into `cat`, proven running by a marker it prints first. */
async function startCat(leg: EchoLeg): Promise<EchoLeg> {
  const marker = `PORTHOLE_CAT_${Date.now()}`;
  const scanner = new MarkerScanner(marker);
  await withDeadline(`${leg.name} cat start`, CAT_READY_TIMEOUT_MS, () =>
    new Promise<void>((done) => {
      leg.onData((chunk) => {
        if (scanner.push(chunk)) done();
      });
      leg.send(Buffer.from(commandWithMarker('true', marker), 'latin1'));
    }),
  );
  leg.send(Buffer.from('exec cat\r', 'latin1'));
  return leg;
}

/** Sends `count` printable bytes, one every 20 ms, and returns each echo's round trip in ms. */
export async function measureEcho(leg: EchoLeg, count: number): Promise<number[]> {
  const times: number[] = [];
  let waiting: { byte: number; sentAt: number; done: () => void } | null = null;
  leg.onData((chunk) => {
    if (waiting && chunk.includes(waiting.byte)) {
      times.push(performance.now() - waiting.sentAt);
      const { done } = waiting;
      waiting = null;
      done();
    }
  });
  // Let whatever the previous round left in flight (the line cat prints back) arrive first.
  await new Promise((done) => setTimeout(done, 100));
  for (let i = 0; i < count; i++) {
    const byte = 0x61 + (i % 26);
    await withDeadline(`${leg.name} echo`, ECHO_TIMEOUT_MS, () =>
      new Promise<void>((done) => {
        waiting = { byte, sentAt: performance.now(), done };
        leg.send(Buffer.from([byte]));
      }),
    );
    await new Promise((done) => setTimeout(done, KEY_INTERVAL_MS));
  }
  // End the line so cat's canonical-mode buffer never fills.
  leg.send(Buffer.from('\r'));
  return times;
}

export async function gatewayEchoLeg(gateway: BenchGateway, buildId: string): Promise<EchoLeg> {
  const ws = await gateway.openTerminal(buildId);
  let listener: (chunk: Buffer) => void = () => undefined;
  const acks = new AckCounter();
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    acks.received();
    listener(data);
    setImmediate(() => {
      const ack = acks.parsed(data.length);
      if (ack > 0 && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: ack }));
    });
  });
  return await startCat({
    name: 'gateway',
    send: (bytes) => ws.send(bytes),
    onData: (l) => (listener = l),
    close: async () => {
      const closed = new Promise((done) => ws.once('close', done));
      ws.close();
      await withDeadline('gateway echo close', 5_000, () => closed, () => ws.terminate()).catch(() => undefined);
    },
  });
}

export async function ssh2EchoLeg(endpoint: SshEndpoint): Promise<EchoLeg> {
  const client = new ssh2.Client();
  const channel = await withDeadline('ssh2 echo open', CAT_READY_TIMEOUT_MS, () =>
    new Promise<ssh2.ClientChannel>((done, fail) => {
      client.on('ready', () => client.shell({ term: 'xterm-256color', cols: 120, rows: 40 }, (error, ch) => (error ? fail(error) : done(ch))));
      client.on('error', fail);
      client.connect({ host: endpoint.host, port: endpoint.port, username: endpoint.username, privateKey: endpoint.privateKey });
    }),
  );
  client.setNoDelay(true);
  let listener: (chunk: Buffer) => void = () => undefined;
  channel.on('data', (data: Buffer) => listener(data));
  return await startCat({
    name: 'ssh2',
    send: (bytes) => channel.write(bytes),
    onData: (l) => (listener = l),
    close: async () => {
      const closed = new Promise<void>((done) => client.once('close', () => done()));
      client.end();
      await withDeadline('ssh2 echo close', 5_000, () => closed, () => client.destroy()).catch(() => undefined);
    },
  });
}

export async function opensshEchoLeg(endpoint: SshEndpoint): Promise<EchoLeg> {
  const ssh = spawnOpenssh(endpoint, { localPty: true });
  let listener: (chunk: Buffer) => void = () => undefined;
  ssh.child.stdout?.on('data', (data: Buffer) => listener(data));
  ssh.child.stderr?.resume();
  return await startCat({
    name: 'openssh',
    send: (bytes) => ssh.child.stdin?.write(bytes),
    onData: (l) => (listener = l),
    close: () => ssh.stop(),
  });
}
