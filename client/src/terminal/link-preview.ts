/**
 * Where a VM's link really goes, shown while the pointer is on it: an OSC 8 hyperlink's text is
 * the VM's choice, its target is not visible otherwise. Text only (textContent), never markup.
 */

/** Gap between the pointer and the preview, so the preview never sits under the cursor. */
const POINTER_OFFSET_PX = 14;

export class LinkPreview {
  readonly #el: HTMLDivElement;

  constructor(doc: Document = document) {
    this.#el = doc.createElement('div');
    this.#el.id = 'term-link-preview';
    this.#el.className = 'term-link-preview';
    this.#el.setAttribute('role', 'tooltip');
    this.#el.hidden = true;
    doc.body.append(this.#el);
  }

  /** `deceptive`: the link's text reads as another address, so the preview says so. */
  show(event: MouseEvent, target: string, deceptive: boolean): void {
    this.#el.textContent = deceptive ? `Opens ${target} — not the address the text shows` : `Opens ${target}`;
    this.#el.dataset['target'] = target;
    this.#el.classList.toggle('term-link-preview-warn', deceptive);
    this.#el.hidden = false;
    // Positioned through the CSSOM, which the page's CSP allows (style attributes it does not).
    const { innerWidth, innerHeight } = window;
    const { offsetWidth, offsetHeight } = this.#el;
    this.#el.style.left = `${Math.max(0, Math.min(event.clientX + POINTER_OFFSET_PX, innerWidth - offsetWidth))}px`;
    this.#el.style.top = `${Math.max(0, Math.min(event.clientY + POINTER_OFFSET_PX, innerHeight - offsetHeight))}px`;
  }

  hide(): void {
    this.#el.hidden = true;
    this.#el.textContent = '';
    delete this.#el.dataset['target'];
  }
}
