/**
 * The five places the screen reaches into noVNC 1.7's internals, because its API has no way in:
 * a display scale other than "fit" or 1 CSS pixel (sharp HiDPI), the keyboard's events before they
 * are sent (Cmd ↔ Ctrl, without touching the key bar's and menus' own keys), the start and end
 * of each FramebufferUpdate (the frame rate, and how long updates take to arrive for Quality Auto),
 * a view-only viewer's clipboard messages (a noVNC bug that stops the viewer), and how its canvas
 * copies pixels (CopyRect and the flip to the visible canvas, slow on a canvas without a GPU). Each checks what
 * it finds and reports false when a newer noVNC has moved things, so the page drops that one
 * feature instead of breaking the viewer.
 */
import type RFB from '@novnc/novnc';

type KeyEventHandler = (keysym: number, code: string | null, down: boolean, ...rest: unknown[]) => void;

interface RfbInternals {
  _updateScale?: unknown;
  _display?: DisplayInternals;
  _keyboard?: { onkeyevent?: unknown };
  _framebufferUpdate?: unknown;
  _handleServerCutText?: unknown;
  _viewOnly?: unknown;
  _sock?: { rQlen?: unknown; rQpeekBytes?: unknown };
  dispatchEvent?: unknown;
}

interface DisplayInternals {
  scale?: unknown;
  copyImage?: unknown;
  flip?: unknown;
  _damage?: unknown;
  _renderQ?: unknown;
  _drawCtx?: unknown;
  _backbuffer?: unknown;
  _targetCtx?: unknown;
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

/** ServerCutText after its type byte: 3 bytes of padding, the signed length, and an extended message's flags. */
const CUT_TEXT_HEADER_BYTES = 11;
/** The extended clipboard's Provide action (its flags' top byte), which carries the data. */
const EXTENDED_CLIPBOARD_PROVIDE = 1 << 28;

/**
 * noVNC 1.7 returns from a view-only viewer's extended-clipboard Provide before reading its data,
 * so it reads the next message from the middle of it and stops ("could not be understood"); a
 * TigerVNC server sends Provide unasked whenever the VM's clipboard changes. A view-only viewer
 * reads such a message as one that may take input would, and the 'clipboard' event that makes is
 * dropped: a view-only page is still not told what the VM copied. Reading a Provide sends nothing.
 */
export function hookViewOnlyClipboard(rfb: RFB): boolean {
  const inner = internals(rfb);
  const original = inner._handleServerCutText;
  const sock = inner._sock;
  if (typeof original !== 'function' || typeof inner._viewOnly !== 'boolean' || typeof sock?.rQlen !== 'function' || typeof sock.rQpeekBytes !== 'function') return false;
  const queued = sock.rQlen as () => number;
  const peek = sock.rQpeekBytes as (length: number) => Uint8Array;
  const isProvide = (): boolean => {
    if (queued.call(sock) < CUT_TEXT_HEADER_BYTES) return false;
    const header = new DataView(peek.call(sock, CUT_TEXT_HEADER_BYTES).buffer);
    return header.getInt32(3) < 0 && (header.getUint32(7) & EXTENDED_CLIPBOARD_PROVIDE) !== 0;
  };
  inner._handleServerCutText = function handleServerCutText(this: unknown, ...args: unknown[]): unknown {
    if (inner._viewOnly !== true || !isProvide()) return (original as (...a: unknown[]) => unknown).apply(this, args);
    inner._viewOnly = false;
    inner.dispatchEvent = () => true;
    try {
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } finally {
      delete inner.dispatchEvent;
      inner._viewOnly = true;
    }
  };
  return true;
}

/**
 * noVNC draws each update on a hidden canvas, copies a CopyRect by drawing that canvas onto
 * itself, and shows the update by drawing the hidden canvas onto the visible one. On a canvas the
 * browser draws without a GPU (no usable GPU, or one it blocklists) both are full-canvas copies:
 * drawing a canvas onto itself snapshots all of it, and the visible canvas holds a snapshot of the
 * hidden one until it next paints, so the update after it copies the whole hidden canvas again
 * (copy-on-write). A scrolling terminal makes a CopyRect per update: 24 ms each for a 1280×800
 * desktop, 41 ms per update with the flip, against 1.7 ms with this hook (measured in Chromium on
 * the bench's machine; docs/benchmarks.md, "Screen over a slow link"). Here a CopyRect goes through
 * a scratch canvas the size of the rectangle, and after each flip a one-pixel read of the visible
 * canvas makes it paint now, letting go of its snapshot before noVNC draws again.
 */
export function hookCanvasCopies(rfb: RFB): boolean {
  const display = internals(rfb)._display;
  if (!display) return false;
  const { copyImage, flip, _damage: damage, _drawCtx: drawCtx, _backbuffer: backbuffer, _targetCtx: targetCtx } = display;
  if (
    typeof copyImage !== 'function' || typeof flip !== 'function' || typeof damage !== 'function' || !Array.isArray(display._renderQ) ||
    !(drawCtx instanceof CanvasRenderingContext2D) || !(backbuffer instanceof HTMLCanvasElement) || !(targetCtx instanceof CanvasRenderingContext2D)
  ) {
    return false;
  }
  const scratch = document.createElement('canvas');
  const scratchCtx = scratch.getContext('2d');
  if (!scratchCtx) return false;
  // Behind queued drawing (an image still decoding) noVNC queues a copy or a flip, and calls it again in turn.
  const queuedBehind = (fromQueue: boolean | undefined): boolean => (display._renderQ as unknown[]).length !== 0 && fromQueue !== true;
  display.copyImage = function copyThroughScratch(this: DisplayInternals, oldX: number, oldY: number, newX: number, newY: number, w: number, h: number, fromQueue?: boolean): void {
    if (queuedBehind(fromQueue)) {
      (copyImage as (...a: unknown[]) => void).call(this, oldX, oldY, newX, newY, w, h, fromQueue);
      return;
    }
    if (w <= 0 || h <= 0) return;
    // Grown only: resizing a canvas reallocates it.
    if (scratch.width < w) scratch.width = w;
    if (scratch.height < h) scratch.height = h;
    scratchCtx.globalCompositeOperation = 'copy';
    scratchCtx.imageSmoothingEnabled = false;
    scratchCtx.drawImage(backbuffer, oldX, oldY, w, h, 0, 0, w, h);
    // noVNC resets these per copy: a resize resets every context property.
    drawCtx.imageSmoothingEnabled = false;
    drawCtx.drawImage(scratch, 0, 0, w, h, newX, newY, w, h);
    (damage as (x: number, y: number, w: number, h: number) => void).call(this, newX, newY, w, h);
  };
  display.flip = function flipAndPaint(this: DisplayInternals, fromQueue?: boolean): void {
    const queued = queuedBehind(fromQueue);
    (flip as (fromQueue?: boolean) => void).call(this, fromQueue);
    if (!queued) targetCtx.getImageData(0, 0, 1, 1);
  };
  return true;
}
