/** Terminal page: an SSH session to the build VM in xterm.js, through the gateway's WebSocket. */
import '@xterm/xterm/css/xterm.css';
import '../styles/app.css';
import '../styles/terminal.css';
import '../styles/files.css';
import { mountFilesPanel } from '../files/mount-files.js';
import { sessionFilesApi } from '../files/session-files-api.js';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { sessionTicketEndpoint } from '../lib/connection-ticket.js';
import { IGNORE_SESSION, type MountedSession } from '../lib/session-observer.js';
import { requireElement } from '../session/dom.js';
import { showMissingBuild } from '../session/status-bar.js';
import { mountTerminal } from '../terminal/mount-terminal.js';
import { withWindowActions } from '../session/window-actions-bar.js';
import { watchedSession } from '../session/watch-query.js';

// Before anything creates a <style>: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

const host = requireElement('terminal', HTMLElement);
const buildId = host.dataset['buildId'] ?? '';
if (buildId) {
  let mounted: MountedSession | null = null;
  const files = mountFilesPanel(sessionFilesApi(buildId), host, () => mounted?.focus());
  mounted = mountTerminal({
    host,
    buildId,
    buildLabel: host.dataset['buildLabel'] || `Build ${buildId}`,
    tickets: sessionTicketEndpoint(buildId),
    signInHref: `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`,
    observer: withWindowActions(buildId, IGNORE_SESSION),
    watch: watchedSession(),
    confirmLeave: true,
    ...(files ? { shellDirectory: (path: string) => files.setShellDirectory(path) } : {}),
  });
} else {
  showMissingBuild('host-key');
}
