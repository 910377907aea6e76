/** Daemon lifecycle for the test harness: run helper commands, spawn daemons, clean up on exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** After a daemon exits, how long to wait for its last output to be read before reporting the exit anyway. */
const PROCESS_OUTPUT_DRAIN_TIMEOUT_MS = 1_000;
/** Keep only the tail of daemon output; VERBOSE sshd logs can grow without bound in long suites. */
const PROCESS_LOG_MAX_CHARS = 1_000_000;
/** Short helper commands (ssh-keygen, chpasswd, xsetroot) finish in well under a second; this only stops a wedged one hanging the suite. */
export const COMMAND_TIMEOUT_MS = 30_000;

export class CommandError extends Error {
  readonly code: number | null;
  readonly stderr: string;
  constructor(message: string, code: number | null, stderr: string) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.stderr = stderr;
  }
}

export interface CommandResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface RunCommandOptions {
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Runs a short-lived command to completion; rejects with its stderr on non-zero exit. */
export async function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return await new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const errText = Buffer.concat(stderr).toString('utf8');
      if (code === 0) {
        resolve({ stdout: Buffer.concat(stdout), stderr: errText });
        return;
      }
      const how = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
      reject(new CommandError(`${command} ${args.join(' ')} failed with ${how}: ${errText.trim()}`, code, errText));
    });
    // A command that never reads stdin closes it early; that EPIPE is not the interesting failure.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ProcessExitedError extends Error {
  readonly exit: ProcessExit;
  readonly output: string;
  constructor(command: string, exit: ProcessExit, output: string) {
    const how = exit.signal !== null ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
    super(`${command} exited unexpectedly (${how}):\n${output}`);
    this.name = 'ProcessExitedError';
    this.exit = exit;
    this.output = output;
  }
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logs: () => string;
  isRunning(): boolean;
  /** Resolves once the leader has exited (its output drained) and the rest of its process group is killed. */
  readonly exited: Promise<ProcessExit>;
  /** Resolves once `text` appears in stdout/stderr; rejects if the process exits first or after `timeoutMs`. */
  waitForLog(text: string, timeoutMs: number): Promise<void>;
  /** Resolves once `done` holds for everything logged so far; checked as output arrives, never polled. */
  waitForLogs(satisfied: (log: string) => boolean, what: string, timeoutMs: number): Promise<void>;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs: number): Promise<void>;
}

export interface SpawnManagedOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Number of extra pipes after stdin/stdout/stderr (fd 3, 4, ...), readable from child.stdio[3...]. */
  readonly extraPipes?: number;
}

const liveProcesses = new Set<ManagedProcess>();
const liveTempDirs = new Set<string>();
let cleanupHooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Group already gone; nothing left to kill.
  }
}

function cleanupSync(): void {
  for (const proc of liveProcesses) {
    killGroup(proc.pid, 'SIGKILL');
  }
  liveProcesses.clear();
  for (const dir of liveTempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort during process exit; a leftover temp dir is harmless.
    }
  }
  liveTempDirs.clear();
}

function installCleanupHooks(): void {
  if (cleanupHooksInstalled) return;
  cleanupHooksInstalled = true;
  // Daemons run in their own process group (so stop() can take their
  // per-connection children down too), which also means a Ctrl-C or a test
  // runner timeout no longer reaches them; kill them ourselves on the way out.
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      // Listening for a signal suppresses Node's default exit; restore it
      // unless someone else has taken responsibility for this signal.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Removes `dir` on process exit unless the returned release function is called first. */
export function registerTempDir(dir: string): () => void {
  installCleanupHooks();
  liveTempDirs.add(dir);
  return () => {
    liveTempDirs.delete(dir);
  };
}

function unrefStream(stream: unknown): void {
  if (stream instanceof net.Socket) stream.unref();
}

/**
 * Spawns a long-running daemon in its own process group, captures its
 * stdout/stderr for `logs()`, and guarantees it is killed when this process
 * exits. The child does not keep the event loop alive, so a test that forgets
 * stop() still terminates (and the exit hook then kills the daemon).
 */
export function spawnManaged(command: string, args: readonly string[], options: SpawnManagedOptions = {}): ManagedProcess {
  installCleanupHooks();
  const extra: 'pipe'[] = Array.from({ length: options.extraPipes ?? 0 }, () => 'pipe' as const);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe', ...extra],
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    detached: true,
  });
  let log = '';
  const logWatchers = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > PROCESS_LOG_MAX_CHARS) log = log.slice(log.length - PROCESS_LOG_MAX_CHARS);
    for (const watcher of logWatchers) watcher();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  const pid = child.pid ?? -1;
  let running = true;
  const exited = new Promise<ProcessExit>((resolve) => {
    let drainTimer: NodeJS.Timeout | undefined;
    child.once('exit', (code, signal) => {
      running = false;
      liveProcesses.delete(managed);
      // The daemon is gone; whatever it left in its group (e.g. sshd
      // per-connection children) has nothing to serve any more.
      if (pid > 0) killGroup(pid, 'SIGKILL');
      // Output written just before exiting (the reason for an early exit, such
      // as "Address already in use") may still sit in the pipe: wait for
      // 'close', unless an escaped grandchild keeps the pipe open.
      drainTimer = setTimeout(() => resolve({ code, signal }), PROCESS_OUTPUT_DRAIN_TIMEOUT_MS);
    });
    child.once('close', (code, signal) => {
      clearTimeout(drainTimer);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      running = false;
      liveProcesses.delete(managed);
      append(Buffer.from(`\n[spawn error] ${err.message}\n`));
      resolve({ code: null, signal: null });
    });
  });

  let stopping: Promise<void> | null = null;
  const managed: ManagedProcess = {
    child,
    pid,
    logs: () => log,
    exited,
    isRunning: () => running,
    waitForLog(text: string, timeoutMs: number): Promise<void> {
      return managed.waitForLogs((all) => all.includes(text), JSON.stringify(text), timeoutMs);
    },
    waitForLogs(satisfied: (log: string) => boolean, what: string, timeoutMs: number): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          logWatchers.delete(check);
        };
        const check = (): void => {
          if (!satisfied(log)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${command}: ${what} did not appear within ${timeoutMs} ms:\n${log}`));
        }, timeoutMs);
        logWatchers.add(check);
        check();
        void exited.then((exit) => {
          if (!logWatchers.has(check)) return;
          done();
          reject(new ProcessExitedError(command, exit, log));
        });
      });
    },
    stop(graceMs: number): Promise<void> {
      stopping ??= (async () => {
        if (pid > 0) killGroup(pid, 'SIGTERM');
        // This timer is also what keeps the event loop alive while we wait,
        // since the child itself is unref'd.
        let timer: NodeJS.Timeout | undefined;
        const escalated = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (pid > 0) killGroup(pid, 'SIGKILL');
            resolve();
          }, graceMs);
        });
        await Promise.race([exited, escalated]);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  if (pid > 0) liveProcesses.add(managed);
  child.unref();
  for (const stream of child.stdio) unrefStream(stream);
  return managed;
}

/** A zombie waiting to be reaped has already ended; only a live process counts. */
export function isProcessRunning(pid: string | number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Established TCP connections to host:port on this machine, from `ss`. */
export async function establishedConnectionsTo(host: string, port: number): Promise<number> {
  const { stdout } = await runCommand('ss', ['-Htn', 'state', 'established', `dst ${host}:${port}`]);
  return stdout.toString().split('\n').filter((line) => line.trim().length > 0).length;
}
