/**
 * The desktop as it was when its connection dropped, shown over the screen area, dimmed and
 * marked "Reconnecting…", until a new viewer shows the desktop again: noVNC removes its canvas when
 * its connection ends, and a blank area would read as a lost desktop.
 */

export class LastFrame {
  readonly #overlay: HTMLElement;
  readonly #canvas: HTMLCanvasElement;

  /** The overlay shares the screen's grid cell (screen.css), right after it. */
  constructor(screen: HTMLElement) {
    this.#overlay = document.createElement('div');
    this.#overlay.className = 'screen-last-frame';
    this.#overlay.hidden = true;
    this.#canvas = document.createElement('canvas');
    const label = document.createElement('p');
    label.className = 'screen-last-frame-label';
    label.textContent = 'Reconnecting…';
    // The status bar's state already says it, politely; the overlay only shows it.
    label.setAttribute('aria-hidden', 'true');
    this.#overlay.append(this.#canvas, label);
    screen.after(this.#overlay);
  }

  /**
   * `scaled`: as the viewer showed the desktop, fitted to the area or at one VM pixel per device
   * pixel (`devicePixelRatio` of them to a CSS pixel).
   */
  show(frame: ImageData | null, scaled: boolean, devicePixelRatio = 1): void {
    const context = frame ? this.#canvas.getContext('2d') : null;
    if (frame && context) {
      this.#canvas.width = frame.width;
      this.#canvas.height = frame.height;
      // Custom properties, so the stylesheet's fitted size still wins when scaled.
      this.#canvas.style.setProperty('--frame-width', `${frame.width / devicePixelRatio}px`);
      this.#canvas.style.setProperty('--frame-height', `${frame.height / devicePixelRatio}px`);
      context.putImageData(frame, 0, 0);
    }
    this.#canvas.hidden = !(frame && context);
    this.setScaled(scaled);
    this.#overlay.hidden = false;
  }

  setScaled(scaled: boolean): void {
    this.#overlay.classList.toggle('is-scaled', scaled);
  }

  hide(): void {
    this.#overlay.hidden = true;
    // A 1080p frame is 8 MB: not kept once the desktop is back.
    this.#canvas.width = 0;
    this.#canvas.height = 0;
  }
}
