/**
 * What the embed terminal and embed screen pages share around their session: the refusal shown
 * when the launch is not accepted, the build label, and the parent's commands.
 */
import type { EmbedCredentialView } from '../../../shared/src/embed.js';
import type { MountedSession } from './session-observer.js';
import type { ParentChannel } from './embed-parent.js';
import type { EmbedRefusal } from './embed-session.js';
import { StatusBar } from '../session/status-bar.js';
import { requireElement } from '../session/dom.js';

/** The status bar says why there is no session; a closed window shows the closed state. */
export function showRefusal(detailId: string, refusal: EmbedRefusal): void {
  const status = StatusBar.fromPage(detailId);
  status.setState('disconnected');
  if (refusal.code === 'window_closed') status.closeWindow();
  else status.showBanner('error', refusal.message);
}

export function labelPage(session: EmbedCredentialView, noun: string): string {
  const label = `Build ${session.buildId}`;
  requireElement('embed-label', HTMLElement).textContent = label;
  document.title = `${noun} · ${label} · Porthole`;
  return label;
}

export function obeyParent(parent: ParentChannel, session: MountedSession): void {
  parent.onCommand((command) => {
    switch (command.type) {
      case 'porthole:focus':
        window.focus();
        session.focus();
        break;
      case 'porthole:disconnect':
        session.disconnect();
        break;
      case 'porthole:settings':
        session.settings?.(command.settings);
        break;
    }
  });
}
