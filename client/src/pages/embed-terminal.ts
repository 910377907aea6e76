/** The terminal inside a dashboard's iframe, with no cookie: see docs/embedding.md. */
import '@xterm/xterm/css/xterm.css';
import '../styles/app.css';
import '../styles/terminal.css';
import '../styles/embed.css';
import '../styles/files.css';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { embedTicketEndpoint, startEmbed } from '../lib/embed-session.js';
import { parentObserver } from '../lib/embed-parent.js';
import { labelPage, obeyParent, showRefusal } from '../lib/embed-page.js';
import { requireElement } from '../session/dom.js';
import { mountTerminal } from '../terminal/mount-terminal.js';
import { parseEmbedSettings } from '../terminal/settings.js';
import { mountFilesPanel } from '../files/mount-files.js';
import { embedFilesApi } from '../files/embed-files-api.js';
import type { MountedSession } from '../lib/session-observer.js';

// Before anything creates a <style>: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

// First of all: the launch token leaves the address bar before anything can read or send it.
const started = await startEmbed('ssh');
if (started.ok) {
  const { session, parent, options } = started.value;
  const observer = parentObserver(parent);
  observer.window(session.window.closesAt);
  const host = requireElement('terminal', HTMLElement);
  let mounted: MountedSession | null = null;
  // Files move as the terminal's user could move them; a watch view or a view-only embed moves none.
  const files = session.watchSessionId === null && !session.viewOnly ? mountFilesPanel(embedFilesApi(session.buildId, session.credential), host, () => mounted?.focus()) : null;
  mounted = mountTerminal({
    host,
    buildId: session.buildId,
    buildLabel: labelPage(session, 'Terminal'),
    tickets: embedTicketEndpoint(session.credential),
    signInHref: null,
    observer,
    watch: session.watchSessionId,
    // The dashboard's attributes (the SDK put them in the fragment) win over the user's remembered choice.
    settings: parseEmbedSettings(options),
    ...(files ? { shellDirectory: (path: string) => files.setShellDirectory(path) } : {}),
  });
  obeyParent(parent, mounted);
} else {
  showRefusal('host-key', started.error);
}
