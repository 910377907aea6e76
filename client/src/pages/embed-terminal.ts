/** The terminal inside a dashboard's iframe, with no cookie: see docs/embedding.md. */
import '@xterm/xterm/css/xterm.css';
import '../styles/app.css';
import '../styles/terminal.css';
import '../styles/embed.css';
import { stampStyleNonces } from '../lib/csp-nonce.js';
import { embedTicketEndpoint, startEmbed } from '../lib/embed-session.js';
import { parentObserver } from '../lib/embed-parent.js';
import { labelPage, obeyParent, showRefusal } from '../lib/embed-page.js';
import { requireElement } from '../session/dom.js';
import { mountTerminal } from '../terminal/mount-terminal.js';

// Before anything creates a <style>: the page's CSP only admits styles carrying its nonce.
stampStyleNonces();

// First of all: the launch token leaves the address bar before anything can read or send it.
const started = await startEmbed('ssh');
if (started.ok) {
  const { session, parent } = started.value;
  const observer = parentObserver(parent);
  observer.window(session.window.closesAt);
  const mounted = mountTerminal({
    host: requireElement('terminal', HTMLElement),
    buildId: session.buildId,
    buildLabel: labelPage(session, 'Terminal'),
    tickets: embedTicketEndpoint(session.credential),
    signInHref: null,
    observer,
    watch: session.watchSessionId,
  });
  obeyParent(parent, mounted);
} else {
  showRefusal('host-key', started.error);
}
