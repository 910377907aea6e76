/**
 * The "Cmd ↔ Ctrl" option (issue #19): on a Windows or Linux keyboard, Ctrl+C should copy on the
 * Mac, where copying is ⌘C. With the option on, the viewer's Ctrl keys reach the VM as ⌘ (X's
 * Super, which macOS VNC servers map to Command, as noVNC sends a browser's Meta key) and the
 * Windows/Super keys as Ctrl.
 */
import { readSetting, writeSetting } from '../lib/storage.js';

/** One key per browser profile: the keyboard is the machine's, not the account's. */
export const CMD_CTRL_STORAGE_KEY = 'porthole.screen.cmd-ctrl';

/** Off unless chosen: on a Mac keyboard ⌘ already reaches the VM as ⌘. */
export function storedCmdCtrlSwap(storage: Pick<Storage, 'getItem'> | null): boolean {
  return readSetting(storage, CMD_CTRL_STORAGE_KEY) === 'on';
}

export function rememberCmdCtrlSwap(storage: Pick<Storage, 'setItem'> | null, on: boolean): void {
  writeSetting(storage, CMD_CTRL_STORAGE_KEY, on ? 'on' : 'off');
}

// X11 keysyms (keysymdef.h).
const CONTROL_L = 0xffe3;
const CONTROL_R = 0xffe4;
const SUPER_L = 0xffeb;
const SUPER_R = 0xffec;

const SWAPPED_KEYSYMS: ReadonlyMap<number, number> = new Map([
  [CONTROL_L, SUPER_L],
  [SUPER_L, CONTROL_L],
  [CONTROL_R, SUPER_R],
  [SUPER_R, CONTROL_R],
]);
/** KeyboardEvent.code goes with the keysym: servers that take scancodes (QEMU's extension) read it instead. */
const SWAPPED_CODES: ReadonlyMap<string, string> = new Map([
  ['ControlLeft', 'MetaLeft'],
  ['MetaLeft', 'ControlLeft'],
  ['ControlRight', 'MetaRight'],
  ['MetaRight', 'ControlRight'],
]);

export interface SentKeyEvent {
  readonly keysym: number;
  readonly code: string | null;
}

export class ModifierSwap {
  /**
   * What each held key was sent as, by its code (or keysym without one): a key pressed before the
   * option changed is released as what it was pressed as, or the VM would keep a modifier held.
   */
  readonly #held = new Map<string, SentKeyEvent>();

  constructor(public enabled = false) {}

  /** The key event to send for a viewer's key event. */
  map(keysym: number, code: string | null, down: boolean): SentKeyEvent {
    const id = code ?? `keysym:${keysym}`;
    if (!down) {
      const pressed = this.#held.get(id);
      this.#held.delete(id);
      if (pressed) return pressed;
    }
    const swapped = this.enabled && SWAPPED_KEYSYMS.has(keysym);
    const sent: SentKeyEvent = swapped
      ? { keysym: SWAPPED_KEYSYMS.get(keysym) ?? keysym, code: code === null ? null : (SWAPPED_CODES.get(code) ?? code) }
      : { keysym, code };
    if (down) this.#held.set(id, sent);
    return sent;
  }
}
