/** The screen inside a dashboard's iframe, with no cookie: see docs/embedding.md. */
import '../styles/app.css';
import '../styles/terminal.css';
import '../styles/screen.css';
import '../styles/embed.css';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { embedTicketEndpoint, embedWindowSource, startEmbed } from '../lib/embed-session.js';
import { parentObserver } from '../lib/embed-parent.js';
import { labelPage, obeyParent, showRefusal } from '../lib/embed-page.js';
import { requireElement } from '../session/dom.js';
import { mountScreen } from '../screen/mount-screen.js';

// Before noVNC creates anything: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

// First of all: the launch token leaves the address bar before anything can read or send it.
const started = await startEmbed('vnc');
if (started.ok) {
  const { session, parent } = started.value;
  const observer = parentObserver(parent);
  observer.window(session.window.closesAt);
  const mounted = mountScreen({
    host: requireElement('screen', HTMLElement),
    buildLabel: labelPage(session, 'Screen'),
    tickets: embedTicketEndpoint(session.credential),
    windowSource: embedWindowSource(session.credential),
    initialRemainingMs: session.window.remainingMs,
    viewOnlyAtGateway: session.viewOnly,
    signInHref: null,
    observer,
    // A watch view stays view-only: an embed has no cookie to read the live-session list with.
    watch: session.watchSessionId,
  });
  obeyParent(parent, mounted);
} else {
  showRefusal('desktop-name', started.error);
}
