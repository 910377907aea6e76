/**
 * The three places the screen reaches into noVNC 1.7's internals, because its API has no way in:
 * a display scale other than "fit" or 1 CSS pixel (sharp HiDPI), the keyboard's events before they
 * are sent (Cmd ↔ Ctrl, without touching the key bar's and menus' own keys), and the start and end
 * of each FramebufferUpdate (the frame rate, and how long updates take to arrive for Quality Auto).
 * Each checks what it finds and reports false when a newer noVNC has moved things, so the page
 * drops that one feature instead of breaking the viewer.
 */
import type RFB from '@novnc/novnc';

type KeyEventHandler = (keysym: number, code: string | null, down: boolean, ...rest: unknown[]) => void;

interface RfbInternals {
  _updateScale?: unknown;
  _display?: { scale?: unknown };
  _keyboard?: { onkeyevent?: unknown };
  _framebufferUpdate?: unknown;
}

function internals(rfb: RFB): RfbInternals {
  return rfb as unknown as RfbInternals;
}

/**
 * After each of noVNC's own scale updates (a window resize, a new desktop size, scaleViewport
 * changing), sets the display's CSS-pixels-per-VM-pixel to `scale()` when that returns a number.
 * noVNC maps the pointer through the same scale, so clicks still land on the right VM pixel.
 * `after` runs once the scale is set: noVNC updates it for each new desktop size too. Returns a
 * function that applies it now, or null where it cannot.
 */
export function hookDisplayScale(rfb: RFB, scale: () => number | null, after: () => void): (() => void) | null {
  const inner = internals(rfb);
  const original = inner._updateScale;
  const display = inner._display;
  if (typeof original !== 'function' || !display || typeof display.scale !== 'number') return null;
  const update = (): void => {
    (original as () => void).call(rfb);
    const wanted = scale();
    if (wanted !== null) display.scale = wanted;
    after();
  };
  inner._updateScale = update;
  return update;
}

/** Every key event from the viewer's own keyboard passes through `map` before noVNC sends it. */
export function hookKeyboard(rfb: RFB, map: (keysym: number, code: string | null, down: boolean) => { keysym: number; code: string | null }): boolean {
  const keyboard = internals(rfb)._keyboard;
  const original = keyboard?.onkeyevent;
  if (!keyboard || typeof original !== 'function') return false;
  const send = original as KeyEventHandler;
  keyboard.onkeyevent = (keysym: number, code: string | null, down: boolean, ...rest: unknown[]) => {
    const sent = map(keysym, code, down);
    send(sent.keysym, sent.code, down, ...rest);
  };
  return true;
}

export interface FrameListener {
  /** An update's first byte has been read. */
  started(): void;
  /** Its last rectangle is in. */
  finished(): void;
}

/** `frames` hears when each FramebufferUpdate noVNC reads begins and ends. */
export function hookFrames(rfb: RFB, frames: FrameListener): boolean {
  const inner = internals(rfb);
  const original = inner._framebufferUpdate;
  if (typeof original !== 'function') return false;
  // noVNC calls it again for the same update each time more of its bytes come in.
  let arriving = false;
  inner._framebufferUpdate = function framebufferUpdate(this: unknown, ...args: unknown[]): unknown {
    if (!arriving) {
      arriving = true;
      frames.started();
    }
    const done: unknown = (original as (...a: unknown[]) => unknown).apply(this, args);
    // True once the update's last rectangle is in; false while it waits for more bytes.
    if (done === true) {
      arriving = false;
      frames.finished();
    }
    return done;
  };
  return true;
}
