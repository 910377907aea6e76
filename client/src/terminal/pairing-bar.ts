/**
 * Pairing on the terminal page (issue #16): the owner copies a watch link for a teammate (it names
 * the session, never a secret: the teammate's own sign-in and role decide), and lets each watcher
 * type or stops it. Names are the gateway's text, set as text, never as markup. Pages without the
 * `#pairing` element (embedded terminals) show nothing.
 */
import type { Participant } from '../../../shared/src/protocol/ssh-v1.js';

/** How long "Copied" replaces the button's label. */
const COPIED_SHOWN_MS = 2_000;

/** The link a teammate opens to watch this session. */
export function watchLink(buildId: string, sessionId: string): string {
  return `${window.location.origin}/builds/${encodeURIComponent(buildId)}/terminal?watch=${encodeURIComponent(sessionId)}`;
}

export class PairingBar {
  readonly #host = document.getElementById('pairing');
  #sessionId: string | null = null;
  #list: readonly Participant[] = [];

  constructor(
    private readonly setControl: (userId: string, mode: 'drive' | 'watch') => void,
    private readonly link: (sessionId: string) => string,
  ) {}

  /** The owner's session is open: offer its watch link. */
  offerInvite(sessionId: string): void {
    this.#sessionId = sessionId;
    this.#render();
  }

  show(list: readonly Participant[]): void {
    this.#list = list;
    this.#render();
  }

  #render(): void {
    const host = this.#host;
    if (!host) return;
    host.replaceChildren();
    const sessionId = this.#sessionId;
    if (sessionId !== null) host.append(this.#inviteButton(sessionId));
    const own = this.#list.some((p) => p.you && p.owner);
    if (own) {
      for (const participant of this.#list) {
        if (participant.owner) continue;
        const drives = participant.mode === 'drive';
        const button = smallButton(drives ? `Stop ${participant.name} typing` : `Let ${participant.name} type`);
        button.dataset['userId'] = participant.userId;
        button.addEventListener('click', () => this.setControl(participant.userId, drives ? 'watch' : 'drive'));
        host.append(button);
      }
    }
    host.hidden = host.childElementCount === 0;
  }

  #inviteButton(sessionId: string): HTMLButtonElement {
    const button = smallButton('Copy watch link');
    button.id = 'copy-watch-link';
    const url = this.link(sessionId);
    button.dataset['link'] = url;
    button.title = 'A teammate with access to this build opens it to watch this terminal';
    button.addEventListener('click', () => {
      void navigator.clipboard.writeText(url).then(
        () => {
          button.textContent = 'Copied';
          window.setTimeout(() => (button.textContent = 'Copy watch link'), COPIED_SHOWN_MS);
        },
        () => window.prompt('Copy this link:', url),
      );
    });
    return button;
  }
}

function smallButton(label: string): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button button-small';
  button.textContent = label;
  return button;
}
