/** Small element builders for the Files panel. Text goes in as text, never as markup. */
import type { FilesProblem } from './errors.js';
import type { DownloadLink } from './files-api.js';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== undefined) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

export function smallButton(label: string, ariaLabel?: string): HTMLButtonElement {
  const button = el('button', 'button button-small', label);
  button.type = 'button';
  if (ariaLabel !== undefined) button.setAttribute('aria-label', ariaLabel);
  return button;
}

/** A link the browser downloads itself, so its own download UI shows the progress. */
export function downloadLink(label: string, ariaLabel: string): HTMLAnchorElement {
  const a = el('a', 'button button-small', label);
  // Empty: the gateway's Content-Disposition names the file.
  a.download = '';
  a.setAttribute('aria-label', ariaLabel);
  return a;
}

/**
 * Points `a` at `link`. A link that starts its own download (an embed's form) does that on a click
 * instead, and reports why it could not to `problem`.
 */
export function pointDownload(a: HTMLAnchorElement, link: DownloadLink, problem: (problem: FilesProblem) => void): void {
  a.href = link.href;
  a.onclick = link.start
    ? (event) => {
        event.preventDefault();
        void link.start?.().then((refused) => refused && problem(refused));
      }
    : null;
}
