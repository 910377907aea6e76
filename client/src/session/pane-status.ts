/**
 * "Connecting…" where the user is looking: over the terminal or screen, not only in the status
 * bar's corner, saying what is happening now (issue #21). Gone once the session is up or over.
 */
import type { ConnectStep } from './state.js';

/** The step in words; `vm` names what the gateway does for this kind of session. */
export function connectingText(step: ConnectStep, again: boolean, vmStep: string): string {
  const lead = again ? 'Reconnecting…' : 'Connecting…';
  switch (step) {
    case 'ticket':
      return `${lead} asking the gateway for access to this build`;
    case 'gateway':
      return `${lead} opening the connection to the gateway`;
    case 'vm':
      return `${lead} ${vmStep}`;
  }
}

export class PaneStatus {
  readonly #element: HTMLElement;

  /** `pane`: the positioned element the terminal or screen fills. */
  constructor(pane: HTMLElement) {
    this.#element = document.createElement('div');
    this.#element.className = 'pane-status';
    this.#element.id = 'pane-status';
    // The status bar's state is the live region; this says the same with more detail, for the eye.
    this.#element.setAttribute('aria-hidden', 'true');
    this.#element.hidden = true;
    pane.append(this.#element);
  }

  show(text: string): void {
    this.#element.textContent = text;
    this.#element.hidden = false;
  }

  hide(): void {
    this.#element.hidden = true;
  }
}
