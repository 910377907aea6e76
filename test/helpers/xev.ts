/**
 * The key events an X display's root window receives, read from `xev`: what a browser's key
 * became on the VM, after the VNC server turned its keysym into a keycode of the VM's layout.
 * Keys reach the root window only while no other window has the keyboard (Xvnc without its xterm).
 */
import { runCommand, spawnManaged } from './daemon.js';
import { pollUntil } from './ports.js';

const XEV_PATH = '/usr/bin/xev';
const XDOTOOL_PATH = '/usr/bin/xdotool';
/** xev selects the root window's key events within milliseconds; generous for loaded CI hosts. */
const XEV_READY_TIMEOUT_MS = 15_000;
/** xev exits on SIGTERM at once. */
const XEV_STOP_GRACE_MS = 3_000;
/** A key xdotool sends until xev reports it: proof that xev listens. Nothing on the root window acts on it. */
const PROBE_KEY = 'Escape';

export interface XKeyEvent {
  readonly press: boolean;
  readonly keysym: number;
  /** xev's name for the keysym: 'udiaeresis', 'Super_L', 'at'. */
  readonly name: string;
}

export interface XevHandle {
  /** Every key event since xev started listening, the probe keys excluded. */
  events(): XKeyEvent[];
  /** xev's own output, for a failure's message. */
  logs(): string;
  stop(): Promise<void>;
}

// "KeyPress event, serial 37, …\n    state 0x40, keycode 54 (keysym 0x63, c), same_screen YES,"
const KEY_EVENT = /(KeyPress|KeyRelease) event,[^\n]*\n[^\n]*\n[^\n]*keycode \d+ \(keysym 0x([0-9a-f]+), ([^)]+)\)/g;

export function parseXevKeys(log: string): XKeyEvent[] {
  return [...log.matchAll(KEY_EVENT)].map((m) => ({ press: m[1] === 'KeyPress', keysym: Number.parseInt(m[2] ?? '', 16), name: m[3] ?? '' }));
}

export async function watchRootKeys(display: number): Promise<XevHandle> {
  const env = { ...process.env, DISPLAY: `:${display}` };
  const xev = spawnManaged(XEV_PATH, ['-root', '-event', 'keyboard'], { env });
  try {
    await pollUntil(`xev listening on :${display}`, XEV_READY_TIMEOUT_MS, async () => {
      if (!xev.isRunning()) throw new Error(`xev exited:\n${xev.logs()}`);
      await runCommand(XDOTOOL_PATH, ['key', PROBE_KEY], { env });
      return parseXevKeys(xev.logs()).some((k) => !k.press && k.name === PROBE_KEY);
    });
  } catch (err) {
    await xev.stop(XEV_STOP_GRACE_MS);
    throw err;
  }
  // The probes come first (the last may still be on its way); the tests send no Escape.
  const events = (): XKeyEvent[] => {
    const all = parseXevKeys(xev.logs());
    let start = 0;
    while (start < all.length && all[start]?.name === PROBE_KEY) start += 1;
    return all.slice(start);
  };
  return { events, logs: () => xev.logs(), stop: () => xev.stop(XEV_STOP_GRACE_MS) };
}
