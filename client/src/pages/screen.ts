/** Screen page: the build VM's desktop in noVNC, through the gateway's WebSocket. */
import '../styles/app.css';
import '../styles/terminal.css';
import '../styles/screen.css';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { sessionTicketEndpoint } from '../lib/connection-ticket.js';
import { IGNORE_SESSION } from '../lib/session-observer.js';
import { sessionWindowSource } from '../lib/window-poll.js';
import { requireElement } from '../session/dom.js';
import { showMissingBuild } from '../session/status-bar.js';
import { mountScreen } from '../screen/mount-screen.js';
import { withWindowActions } from '../session/window-actions-bar.js';
import { watchedSession } from '../session/watch-query.js';
import { followWatcherMode, wireScreenWatchers } from '../screen/controls.js';

// Before noVNC creates anything: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

const host = requireElement('screen', HTMLElement);
const buildId = host.dataset['buildId'] ?? '';
if (buildId) {
  const watching = watchedSession();
  const mounted = mountScreen({
    host,
    buildLabel: host.dataset['buildLabel'] || `Build ${buildId}`,
    tickets: sessionTicketEndpoint(buildId),
    windowSource: sessionWindowSource(buildId),
    initialRemainingMs: initialRemainingMs(),
    viewOnlyAtGateway: false,
    // The query too: a watch link leads back to the screen it watches after signing in.
    signInHref: `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`,
    observer: withWindowActions(buildId, IGNORE_SESSION),
    // Its input is switched on by the mounted screen's allowInput, once the page learns the owner let it drive.
    watch: watching,
  });
  // RFB has no side channel: who watches the owner's screen, and whether this watcher may type,
  // come from the build's live-session list.
  if (watching === null) wireScreenWatchers(requireElement('screen-watchers', HTMLElement), buildId, () => null);
  else followWatcherMode(buildId, watching, mounted);
} else {
  showMissingBuild('desktop-name');
}

/** Server-computed; absent or empty means the window stays open while the build runs. */
function initialRemainingMs(): number | null {
  const raw = requireElement('window-countdown', HTMLElement).dataset['remainingMs']?.trim();
  if (!raw) return null;
  const ms = Number(raw);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}
