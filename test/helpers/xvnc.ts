import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ProcessExitedError, registerTempDir, runCommand, spawnManaged, type ManagedProcess } from './daemon.js';
import { freePort, pollUntil, waitForBanner } from './ports.js';

/** Where the optional xterm sits, in screen pixels, so tests can sample its colours and aim input at it. */
export interface TerminalWindowGeometry {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** '#rrggbb' */
  readonly background: string;
  readonly foreground: string;
}

export interface XvncHandle {
  readonly host: string;
  readonly port: number;
  readonly display: number;
  readonly password: string;
  readonly width: number;
  readonly height: number;
  /** '#rrggbb' of the root window. */
  readonly background: string;
  /** null unless started with terminalWindow: true. */
  readonly terminal: TerminalWindowGeometry | null;
  readonly logs: () => string;
  /** Idempotent; kills xterm and Xvnc, removes the temp dir. */
  stop(): Promise<void>;
}

export interface StartXvncOptions {
  readonly width?: number;
  readonly height?: number;
  /** '#rrggbb' */
  readonly background?: string;
  readonly terminalWindow?: boolean;
  /** At most 8 characters: classic VNC authentication ignores the rest. */
  readonly password?: string;
}

const HOST = '127.0.0.1';
const XVNC_PATH = '/usr/bin/Xvnc';
const VNCPASSWD_PATH = '/usr/bin/vncpasswd';
const XSETROOT_PATH = '/usr/bin/xsetroot';
const XWININFO_PATH = '/usr/bin/xwininfo';
const XTERM_PATH = '/usr/bin/xterm';

const DEFAULT_WIDTH_PX = 1024;
const DEFAULT_HEIGHT_PX = 768;
const DEFAULT_BACKGROUND = '#204080';
const TERMINAL_BACKGROUND = '#ffd000';
const TERMINAL_FOREGROUND = '#000000';
/** Window title we search for with xwininfo; title changes are disabled on the xterm so it stays findable. */
const TERMINAL_TITLE = 'porthole-test-terminal';
const TERMINAL_X_PX = 40;
const TERMINAL_Y_PX = 40;
/**
 * 100x40 cells of the 6x13 "fixed" font (about 604x524 px at +40+40) cover the
 * centre of the default 1024x768 screen, where the X server puts the pointer at
 * start: with no window manager, keyboard focus follows the pointer, so typed
 * keys reach the terminal without moving the pointer first.
 */
const TERMINAL_COLUMNS = 100;
const TERMINAL_ROWS = 40;

/** VNC authentication (RFB type 2) DES-encrypts at most 8 password bytes. */
const VNC_PASSWORD_MAX_CHARS = 8;
/** 6 random bytes encode to exactly 8 base64url characters, the VNC maximum. */
const VNC_PASSWORD_RANDOM_BYTES = 6;
/** Xvnc writes its display number after initialising in ~100 ms; generous for loaded CI hosts. */
const XVNC_READY_TIMEOUT_MS = 15_000;
/** xterm maps its window within a fraction of a second; generous for loaded CI hosts. */
const XTERM_MAPPED_TIMEOUT_MS = 15_000;
/** freePort() can lose a race to another process; a few fresh ports practically always suffice. */
const XVNC_BIND_ATTEMPTS = 4;
/** Xvnc and xterm exit on SIGTERM immediately; past this they are wedged and get SIGKILL. */
const XVNC_STOP_GRACE_MS = 3_000;

const COLOUR_PATTERN = /^#[0-9a-fA-F]{6}$/;

class BindRaceError extends Error {}

/**
 * Resolves with the display number Xvnc writes to -displayfd once it accepts
 * X clients. Binding the RFB port happens earlier and is fatal on failure, so
 * a display number also proves the port belongs to this Xvnc.
 */
async function readDisplayNumber(proc: ManagedProcess): Promise<number> {
  const pipe = proc.child.stdio[3];
  if (pipe === undefined || pipe === null) throw new Error('Xvnc display pipe missing');
  let text = '';
  const display = new Promise<number>((resolve, reject) => {
    pipe.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      const value = Number.parseInt(text.slice(0, newline), 10);
      if (Number.isInteger(value) && value >= 0) resolve(value);
      else reject(new Error(`Xvnc wrote an invalid display number ${JSON.stringify(text)}`));
    });
    pipe.on('error', reject);
  });
  display.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), XVNC_READY_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([display, proc.exited, timeout]);
    if (typeof outcome === 'number') return outcome;
    if (outcome === 'timeout') {
      throw new Error(`Xvnc did not report a display within ${XVNC_READY_TIMEOUT_MS} ms:\n${proc.logs()}`);
    }
    const exitError = new ProcessExitedError('Xvnc', outcome, proc.logs());
    if (/Address already in use/i.test(exitError.output)) throw new BindRaceError(exitError.message);
    throw exitError;
  } finally {
    clearTimeout(timer);
  }
}

async function startXvncOnFreePort(
  tmp: string,
  width: number,
  height: number,
): Promise<{ proc: ManagedProcess; port: number; display: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(HOST);
    const proc = spawnManaged(
      XVNC_PATH,
      [
        // fd 3 is the first extra pipe; Xvnc picks a free display itself, avoiding races on :N.
        '-displayfd', '3',
        '-rfbport', String(port),
        // TigerVNC 1.12: -localhost would also bind [::1]; -interface restricts to IPv4 loopback only.
        '-interface', HOST,
        '-SecurityTypes', 'VncAuth',
        '-rfbauth', path.join(tmp, 'passwd'),
        '-geometry', `${width}x${height}`,
        '-depth', '24',
        '-nolisten', 'tcp',
        '-AlwaysShared',
      ],
      { cwd: tmp, extraPipes: 1 },
    );
    try {
      const display = await readDisplayNumber(proc);
      const abort = new AbortController();
      const banner = waitForBanner(HOST, port, 'RFB 003.', XVNC_READY_TIMEOUT_MS, abort.signal);
      banner.catch(() => {});
      const outcome = await Promise.race([banner.then(() => 'ready' as const), proc.exited]).finally(() => {
        abort.abort();
      });
      if (outcome !== 'ready') throw new ProcessExitedError('Xvnc', outcome, proc.logs());
      return { proc, port, display };
    } catch (err) {
      await proc.stop(XVNC_STOP_GRACE_MS);
      if (err instanceof BindRaceError && attempt < XVNC_BIND_ATTEMPTS) continue;
      throw err;
    }
  }
}

interface WindowInfo {
  readonly viewable: boolean;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function parseWindowInfo(text: string): WindowInfo {
  const field = (label: string): number => {
    const match = new RegExp(`${label}:\\s+(-?\\d+)`).exec(text);
    if (match?.[1] === undefined) throw new Error(`xwininfo output lacks "${label}":\n${text}`);
    return Number.parseInt(match[1], 10);
  };
  return {
    viewable: /Map State:\s+IsViewable/.test(text),
    x: field('Absolute upper-left X'),
    y: field('Absolute upper-left Y'),
    width: field('Width'),
    height: field('Height'),
  };
}

async function startTerminal(
  display: number,
  home: string,
): Promise<{ proc: ManagedProcess; geometry: TerminalWindowGeometry }> {
  const env = { ...process.env, DISPLAY: `:${display}`, HOME: home, PS1: '$ ', TERM: 'xterm' };
  const proc = spawnManaged(
    XTERM_PATH,
    [
      '-geometry', `${TERMINAL_COLUMNS}x${TERMINAL_ROWS}+${TERMINAL_X_PX}+${TERMINAL_Y_PX}`,
      '-bg', TERMINAL_BACKGROUND,
      '-fg', TERMINAL_FOREGROUND,
      '-fn', 'fixed',
      '-title', TERMINAL_TITLE,
      // Keeps the title (our xwininfo handle) stable whatever the shell prints.
      '-xrm', 'XTerm*allowTitleOps: false',
      // No rc files: the prompt and environment stay exactly what we set above.
      '-e', 'bash', '--norc', '--noprofile',
    ],
    { cwd: home, env },
  );
  try {
    // Filled in by the poll callback, which TypeScript's flow analysis cannot see into.
    const found: { info?: WindowInfo } = {};
    await pollUntil(`xterm window on :${display}`, XTERM_MAPPED_TIMEOUT_MS, async () => {
      if (!proc.isRunning()) {
        throw new Error(`xterm exited during startup:\n${proc.logs()}`);
      }
      const { stdout } = await runCommand(XWININFO_PATH, ['-name', TERMINAL_TITLE], { env });
      const parsed = parseWindowInfo(stdout.toString('utf8'));
      if (!parsed.viewable) return false;
      found.info = parsed;
      return true;
    });
    const mapped = found.info;
    if (mapped === undefined) throw new Error('xterm window info missing after it was mapped');
    return {
      proc,
      geometry: {
        x: mapped.x,
        y: mapped.y,
        width: mapped.width,
        height: mapped.height,
        background: TERMINAL_BACKGROUND,
        foreground: TERMINAL_FOREGROUND,
      },
    };
  } catch (err) {
    await proc.stop(XVNC_STOP_GRACE_MS);
    if (err instanceof Error) err.message += `\nxterm output:\n${proc.logs()}`;
    throw err;
  }
}

export async function startXvnc(options: StartXvncOptions = {}): Promise<XvncHandle> {
  const width = options.width ?? DEFAULT_WIDTH_PX;
  const height = options.height ?? DEFAULT_HEIGHT_PX;
  const background = options.background ?? DEFAULT_BACKGROUND;
  const password = options.password ?? crypto.randomBytes(VNC_PASSWORD_RANDOM_BYTES).toString('base64url');
  if (!COLOUR_PATTERN.test(background)) {
    throw new Error(`startXvnc: background must be '#rrggbb', got ${JSON.stringify(background)}`);
  }
  if (password.length === 0 || password.length > VNC_PASSWORD_MAX_CHARS) {
    throw new Error(`startXvnc: password must be 1..${VNC_PASSWORD_MAX_CHARS} characters (VNC auth ignores the rest)`);
  }

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'porthole-xvnc-'));
  const releaseTmp = registerTempDir(tmp);
  let xvnc: ManagedProcess | null = null;
  try {
    const { stdout: passwdFile } = await runCommand(VNCPASSWD_PATH, ['-f'], { input: `${password}\n` });
    await fs.writeFile(path.join(tmp, 'passwd'), passwdFile, { mode: 0o600 });

    const started = await startXvncOnFreePort(tmp, width, height);
    const xvncProc = started.proc;
    xvnc = xvncProc;
    const { port, display } = started;
    const env = { ...process.env, DISPLAY: `:${display}` };
    await runCommand(XSETROOT_PATH, ['-solid', background], { env });

    let terminalProc: ManagedProcess | null = null;
    let terminal: TerminalWindowGeometry | null = null;
    if (options.terminalWindow === true) {
      const home = path.join(tmp, 'home');
      await fs.mkdir(home, { mode: 0o700 });
      const started = await startTerminal(display, home);
      terminalProc = started.proc;
      terminal = started.geometry;
    }

    let stopping: Promise<void> | null = null;
    return {
      host: HOST,
      port,
      display,
      password,
      width,
      height,
      background,
      terminal,
      logs: () => {
        const parts = [`--- Xvnc :${display} ---\n${xvncProc.logs()}`];
        if (terminalProc !== null) parts.push(`--- xterm ---\n${terminalProc.logs()}`);
        return parts.join('\n');
      },
      stop: () => {
        stopping ??= (async () => {
          await terminalProc?.stop(XVNC_STOP_GRACE_MS);
          await xvncProc.stop(XVNC_STOP_GRACE_MS);
          await fs.rm(tmp, { recursive: true, force: true });
          releaseTmp();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await xvnc?.stop(XVNC_STOP_GRACE_MS);
    await fs.rm(tmp, { recursive: true, force: true });
    releaseTmp();
    throw err;
  }
}
