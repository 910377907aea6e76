/**
 * What the status bar shows when a terminal or screen session ends: the closed-window state, or the
 * notice with "Sign in again" and Reconnect where they can help.
 */
import { windowHasClosed, type DisconnectNotice } from './disconnect.js';
import type { Disconnect } from './state.js';
import type { StatusBar } from './status-bar.js';

/** `signInHref`: where "Sign in again" leads after a 401; null on embed pages, which have no sign-in. */
export function showDisconnect(status: StatusBar, why: Disconnect, describe: (why: Disconnect) => DisconnectNotice, signInHref: string | null): void {
  // The closed-window state says it all and is final: no Reconnect, no close code wording.
  if (windowHasClosed(why)) {
    status.closeWindow(why.kind === 'closed' ? why.reason : null);
    return;
  }
  const notice = describe(why);
  const signIn = notice.signIn && signInHref !== null ? { href: signInHref, label: 'Sign in again' } : undefined;
  status.showBanner(notice.kind, notice.text, signIn);
  // Without a sign-in to renew, a refused credential stays refused.
  status.showReconnect(notice.reconnect && !(notice.signIn && signInHref === null));
}
