/**
 * Keystroke echo latency: single keystrokes, 20 ms apart, into `cat` in a PTY, timed from send to
 * the echoed byte. Three legs against the same sshd, alternated in rounds so machine noise hits
 * them alike: G through the gateway (WebSocket), L the ssh2 library direct, D the OpenSSH client.
 *
 *   npm run build && node --import tsx bench/keystroke-echo.ts [keystrokes per leg]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ssh2 from 'ssh2';
import type { WebSocket } from 'ws';
import { startSshd, type SshdHandle } from '../test/helpers/sshd.js';
import { percentile, startBenchGateway } from './lib/gateway-process.js';

const DEFAULT_KEYSTROKES = 1000;
const ROUNDS = 5;
const KEY_INTERVAL_MS = 20;
const ECHO_TIMEOUT_MS = 5_000;
const READY_MARKER = 'PORTHOLE_ECHO_READY';

/** A duplex byte path to a remote `cat`: send bytes, hear the echo. */
interface EchoLeg {
  send(byte: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
  close(): void;
}

async function main(): Promise<void> {
  const perLeg = Number(process.argv[2] ?? DEFAULT_KEYSTROKES);
  const sshd = await startSshd();
  const gateway = await startBenchGateway(sshd);
  try {
    const legs: Record<'gateway' | 'ssh2' | 'openssh', EchoLeg> = {
      gateway: await gatewayLeg(gateway.openTerminal.bind(gateway)),
      ssh2: await ssh2Leg(sshd),
      openssh: await opensshLeg(sshd),
    };
    const samples: Record<keyof typeof legs, number[]> = { gateway: [], ssh2: [], openssh: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(legs) as (keyof typeof legs)[]) {
        samples[name].push(...(await measure(legs[name], Math.ceil(perLeg / ROUNDS))));
      }
    }
    for (const leg of Object.values(legs)) leg.close();
    const summary = Object.fromEntries(
      Object.entries(samples).map(([name, values]) => [name, { n: values.length, p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), maxMs: Math.max(...values) }]),
    );
    const result = { date: new Date().toISOString(), node: process.version, keyIntervalMs: KEY_INTERVAL_MS, legs: summary };
    console.log(JSON.stringify(result, null, 2));
    const out = resolve(import.meta.dirname, 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'keystroke-echo.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await gateway.stop();
    await sshd.stop();
  }
}

/** Sends printable bytes one at a time and times each echo. */
async function measure(leg: EchoLeg, count: number): Promise<number[]> {
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
  for (let i = 0; i < count; i++) {
    const byte = 0x61 + (i % 26);
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('echo timed out')), ECHO_TIMEOUT_MS);
      waiting = { byte, sentAt: performance.now(), done: () => (clearTimeout(timer), done()) };
      leg.send(Buffer.from([byte]));
    });
    await new Promise((done) => setTimeout(done, KEY_INTERVAL_MS));
  }
  // End the line so `cat`'s canonical-mode buffer never fills.
  leg.send(Buffer.from('\r'));
  return times;
}

function waitForMarker(subscribe: (listener: (chunk: Buffer) => void) => void): Promise<void> {
  return new Promise((done) => {
    let seen = '';
    let finished = false;
    subscribe((chunk) => {
      if (finished) return;
      seen = (seen + chunk.toString('latin1')).slice(-200);
      if (seen.includes(`${READY_MARKER}\r\n`) || seen.includes(`${READY_MARKER}\n`)) {
        finished = true;
        done();
      }
    });
  });
}

const START_CAT = `echo ${READY_MARKER.slice(0, 8)}""${READY_MARKER.slice(8)}; exec cat\r`;

async function gatewayLeg(open: () => Promise<WebSocket>): Promise<EchoLeg> {
  const ws = await open();
  const listeners: ((chunk: Buffer) => void)[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
    for (const l of listeners) l(data);
  });
  const ready = waitForMarker((l) => listeners.push(l));
  ws.send(Buffer.from(START_CAT));
  await ready;
  return { send: (b) => ws.send(b), onData: (l) => listeners.splice(0, listeners.length, l), close: () => ws.close() };
}

async function ssh2Leg(sshd: SshdHandle): Promise<EchoLeg> {
  const login = sshd.passwordUser;
  const password = login?.password;
  if (!login || !password) throw new Error('needs the sshd password user');
  const client = new ssh2.Client();
  const channel = await new Promise<ssh2.ClientChannel>((done, fail) => {
    client.on('ready', () => client.shell({ term: 'xterm-256color', cols: 120, rows: 40 }, (error, ch) => (error ? fail(error) : done(ch))));
    client.on('error', fail);
    client.connect({ host: sshd.host, port: sshd.port, username: login.username, password });
  });
  client.setNoDelay(true);
  const listeners: ((chunk: Buffer) => void)[] = [];
  channel.on('data', (data: Buffer) => {
    for (const l of listeners) l(data);
  });
  const ready = waitForMarker((l) => listeners.push(l));
  channel.write(START_CAT);
  await ready;
  return { send: (b) => channel.write(b), onData: (l) => listeners.splice(0, listeners.length, l), close: () => client.end() };
}

async function opensshLeg(sshd: SshdHandle): Promise<EchoLeg> {
  // The key user logs in without a password prompt.
  const key = sshd.keyUser;
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-ssh-'));
  const keyFile = join(dir, 'id');
  writeFileSync(keyFile, key.privateKey ?? '', { mode: 0o600 });
  const ssh = spawn('ssh', ['-tt', '-i', keyFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-p', String(sshd.port), `${key.username}@${sshd.host}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const listeners: ((chunk: Buffer) => void)[] = [];
  ssh.stdout.on('data', (data: Buffer) => {
    for (const l of listeners) l(data);
  });
  const ready = waitForMarker((l) => listeners.push(l));
  ssh.stdin.write(START_CAT);
  await ready;
  return { send: (b) => ssh.stdin.write(b), onData: (l) => listeners.splice(0, listeners.length, l), close: () => ssh.kill() };
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
