/**
 * The three ways into the same shell that the terminal cases compare, each a separate process so
 * its CPU can be read from /proc the same way:
 *
 *   gateway  browser-like WebSocket client (child) → gateway process (measured) → sshd
 *   ssh2     the ssh2 library as a direct client (child, measured) → sshd
 *   openssh  `ssh -tt` (measured), its stdout read by the bench → sshd
 *
 * Every leg ends deterministically: a run waits for an end marker under a deadline, and close()
 * kills whatever did not exit in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuSecondsOf, minorFaultsOf } from './proc.js';
import { withDeadline } from './deadline.js';
import { MarkerScanner } from './marker.js';
import type { BenchGateway, SshEndpoint } from './gateway-process.js';
import type { FromChild, ShellChildConfig, ToChild } from './shell-child.js';

export type LegName = 'gateway' | 'ssh2' | 'openssh';

export interface RunResult {
  readonly bytes: number;
  readonly ms: number;
}

export interface ShellLeg {
  readonly name: LegName;
  /** Cipher negotiated server → client, where the client tells. */
  readonly cipher: string | null;
  /** CPU seconds so far of the process this leg is about (the gateway, ssh2's, or ssh's). */
  cpuSeconds(): number;
  /** Minor page faults so far of that process (issue #18: a relay's CPU followed them). */
  minorFaults(): number;
  /** Writes `command` and resolves when `marker` has arrived, with the bytes received meanwhile. */
  run(command: string, marker: string, timeoutMs: number): Promise<RunResult>;
  write(data: string): void;
  close(): Promise<void>;
}

/** A child or ssh that does not exit this long after being asked is killed. */
const EXIT_GRACE_MS = 5_000;
/** Login and shell start on a loaded 2-core machine. */
const OPEN_TIMEOUT_MS = 30_000;
const TERMINAL_SIZE = { cols: 120, rows: 40 } as const;
const SHELL_CHILD = resolve(import.meta.dirname, 'shell-child.ts');

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopChild(child: ChildProcess, ask: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  ask();
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), EXIT_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function childLeg(name: LegName, config: ShellChildConfig, cpuSeconds: (childPid: number) => number, minorFaults: (childPid: number) => number): Promise<ShellLeg> {
  const child = spawn(process.execPath, ['--import', 'tsx', SHELL_CHILD, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
  const pid = child.pid ?? -1;
  let nextId = 0;
  const ready = await withDeadline(
    `${name} leg start`,
    OPEN_TIMEOUT_MS,
    () =>
      new Promise<Extract<FromChild, { type: 'ready' }>>((done, fail) => {
        child.on('message', (m: FromChild) => {
          if (m.type === 'ready') done(m);
          else if (m.type === 'failed') fail(new Error(`${name} leg: ${m.message}`));
        });
        child.once('exit', (code) => fail(new Error(`${name} leg exited (${code})`)));
      }),
    () => killGroup(child, 'SIGKILL'),
  );
  const post = (message: ToChild): void => {
    child.send(message);
  };
  return {
    name,
    cipher: ready.cipher,
    cpuSeconds: () => cpuSeconds(pid),
    minorFaults: () => minorFaults(pid),
    run(command, marker, timeoutMs) {
      const id = ++nextId;
      return withDeadline(
        `${name} run`,
        timeoutMs,
        () =>
          new Promise<RunResult>((done, fail) => {
            const onMessage = (m: FromChild): void => {
              if (m.type !== 'done' || m.id !== id) return;
              child.off('message', onMessage);
              done({ bytes: m.bytes, ms: m.ms });
            };
            child.on('message', onMessage);
            child.once('exit', (code) => fail(new Error(`${name} leg exited during a run (${code})`)));
            post({ type: 'run', id, command, marker });
          }),
        () => killGroup(child, 'SIGKILL'),
      );
    },
    write: (data) => post({ type: 'write', data }),
    close: () => stopChild(child, () => (child.connected ? child.disconnect() : killGroup(child, 'SIGTERM'))),
  };
}

export async function ssh2Leg(endpoint: SshEndpoint): Promise<ShellLeg> {
  return await childLeg('ssh2', { mode: 'ssh2', host: endpoint.host, port: endpoint.port, username: endpoint.username, privateKey: endpoint.privateKey, ...TERMINAL_SIZE }, cpuSecondsOf, minorFaultsOf);
}

export async function gatewayLeg(gateway: BenchGateway, buildId: string): Promise<ShellLeg> {
  const ticket = await gateway.mintTicket(buildId, 'ssh');
  return await childLeg('gateway', { mode: 'gateway', url: ticket.url, protocol: ticket.protocol, ticket: ticket.ticket, origin: gateway.origin, ...TERMINAL_SIZE }, () => gateway.cpuSeconds(), () => minorFaultsOf(gateway.pid));
}

export interface OpensshOptions {
  /** Run ssh inside a local PTY (util-linux `script`), as a person in a terminal emulator does. */
  readonly localPty?: boolean;
}

/** Arguments for a non-interactive login as the key user; -v prints the negotiated cipher. */
export function sshArgs(endpoint: SshEndpoint, keyFile: string): string[] {
  return [
    '-tt', '-v', '-e', 'none', '-i', keyFile,
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', `SetEnv=TERM=xterm-256color`,
    '-p', String(endpoint.port), `${endpoint.username}@${endpoint.host}`,
  ];
}

export function writeKeyFile(endpoint: SshEndpoint): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-ssh-'));
  const file = join(dir, 'id');
  writeFileSync(file, endpoint.privateKey, { mode: 0o600 });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OpensshProcess {
  readonly child: ChildProcess;
  /** The `ssh` process itself (inside `script` when there is a local PTY). */
  readonly sshPid: () => number;
  readonly cipher: Promise<string | null>;
  stop(): Promise<void>;
}

/** Starts `ssh -tt` in its own process group, optionally behind a local PTY. */
export function spawnOpenssh(endpoint: SshEndpoint, options: OpensshOptions = {}): OpensshProcess {
  const key = writeKeyFile(endpoint);
  const args = sshArgs(endpoint, key.file);
  const child = options.localPty
    ? // -q quiet, -f flush each write, -e exit with ssh's status; the typescript goes nowhere.
      spawn('script', ['-qfec', ['ssh', ...args].map(shellQuote).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, TERM: 'xterm-256color' } })
    : spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin?.on('error', () => undefined);
  let debug = '';
  const cipher = new Promise<string | null>((done) => {
    const onData = (chunk: Buffer): void => {
      debug = (debug + chunk.toString('latin1')).slice(-20_000);
      const found = /kex: server->client cipher: (\S+)/.exec(debug)?.[1];
      if (found) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        done(found);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', () => done(null));
  });
  // With a local PTY, ssh's -v output shares script's stdout; the cipher is then read there.
  if (options.localPty) {
    child.stdout?.on('data', (chunk: Buffer) => {
      debug = (debug + chunk.toString('latin1')).slice(-20_000);
    });
  }
  return {
    child,
    sshPid: () => (options.localPty ? findChildPid(child.pid ?? -1, 'ssh') : (child.pid ?? -1)),
    cipher,
    stop: async () => {
      await stopChild(child, () => {
        child.stdin?.write('\x04exit\r');
        child.stdin?.end();
        setTimeout(() => killGroup(child, 'SIGTERM'), 1_000).unref();
      });
      key.remove();
    },
  };
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The pid of `parent`'s direct child named `name`, from /proc. */
function findChildPid(parent: number, name: string): number {
  return readChildren(parent).find((pid) => procName(pid) === name) ?? -1;
}

function readChildren(pid: number): number[] {
  // /proc/<pid>/task/<tid>/children lists direct children (CONFIG_PROC_CHILDREN).
  const text = readText(`/proc/${pid}/task/${pid}/children`);
  return text.split(' ').filter((s) => s.length > 0).map(Number);
}

function procName(pid: number): string {
  return readText(`/proc/${pid}/comm`).trim();
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export async function opensshLeg(endpoint: SshEndpoint): Promise<ShellLeg> {
  const ssh = spawnOpenssh(endpoint);
  const pid = ssh.child.pid ?? -1;
  let listener: ((chunk: Buffer) => void) | null = null;
  ssh.child.stdout?.on('data', (chunk: Buffer) => listener?.(chunk));
  const cipher = await withDeadline('openssh leg start', OPEN_TIMEOUT_MS, () => ssh.cipher, () => killGroup(ssh.child, 'SIGKILL'));
  if (cipher === null) throw new Error('ssh exited before the key exchange');
  const leg: ShellLeg = {
    name: 'openssh',
    cipher,
    cpuSeconds: () => cpuSecondsOf(pid),
    minorFaults: () => minorFaultsOf(pid),
    run(command, marker, timeoutMs) {
      return withDeadline(
        'openssh run',
        timeoutMs,
        () =>
          new Promise<RunResult>((done, fail) => {
            const scanner = new MarkerScanner(marker);
            let bytes = 0;
            const started = performance.now();
            listener = (chunk) => {
              bytes += chunk.length;
              if (scanner.push(chunk)) {
                listener = null;
                done({ bytes, ms: performance.now() - started });
              }
            };
            ssh.child.once('exit', (code) => fail(new Error(`ssh exited during a run (${code})`)));
            ssh.child.stdin?.write(command);
          }),
        () => killGroup(ssh.child, 'SIGKILL'),
      );
    },
    write: (data) => {
      ssh.child.stdin?.write(data);
    },
    close: () => ssh.stop(),
  };
  return leg;
}
