/**
 * One screen session at a time: ticket, WebSocket, noVNC. Knows nothing about the page's
 * controls; the page renders what it reports and applies its settings to each new viewer.
 *
 * The page opens the WebSocket itself and hands it to noVNC, because noVNC's `disconnect` event
 * does not say why: the gateway's close code (window closed, revoked, VM unreachable…) is only on
 * the socket's own `close` event.
 */
import RFB from '@novnc/novnc';
import { CloseCode, FINAL_CLOSE_CODES } from '../../../shared/src/protocol/close-codes.js';
import { ABNORMAL_CLOSURE_CODE, CLOSED_BY_PAGE_REASON, type ConnectionState, type Disconnect } from '../session/state.js';
import { openTicketedSocket, type ConnectionRefusal, type TicketEndpoint } from '../lib/connection-ticket.js';
import { SUBPROTOCOLS } from '../../../shared/src/protocol/kinds.js';

/**
 * Browsers follow 'error' with 'close' in the same task, and answer a close handshake within a
 * round trip; past this the page stops waiting for the close code rather than show
 * "Connecting…" forever.
 */
const CLOSE_GRACE_MS = 3000;

/** The gateway answers 400 to a screen ticket for a build without a registered screen. */
const NO_SCREEN_STATUS = 400;

const VM_REFUSED_LOGIN = 'The build VM refused the screen login.';
const CREDENTIALS_ASKED =
  'The screen asked this page for a password, which the gateway should have answered itself. The connection was closed; report this if it happens again.';
const STREAM_UNREADABLE = 'The screen stream from the gateway could not be understood, so the viewer stopped. Reconnect to try again.';

/** A quality/bandwidth balance that keeps a 1080p desktop responsive over an ordinary office link. */
const QUALITY_LEVEL = 6;
const COMPRESSION_LEVEL = 2;

export interface ScreenEvents {
  state(state: ConnectionState): void;
  /** A new viewer is in the page; apply settings here, before its first frame. */
  created(rfb: RFB): void;
  connected(rfb: RFB): void;
  /** Untrusted: whatever the VM's VNC server calls itself. */
  desktopName(name: string): void;
  /** Untrusted text the VM put on its clipboard. */
  clipboard(text: string): void;
  /**
   * For a closed socket, `serverError` carries what went wrong in the VNC handshake (refused
   * login), which explains the close better than its code.
   */
  disconnected(why: Disconnect): void;
}

export class ScreenConnection {
  #socket: WebSocket | null = null;
  #rfb: RFB | null = null;
  /** Bumped per attempt so a late answer from an abandoned attempt is ignored. */
  #attempt = 0;
  #busy = false;
  // Per session, reset when its socket is created; events of older sockets are ignored.
  #opened = false;
  /** Why the session is ending, when the VNC handshake knows better than the close code. */
  #failure: string | null = null;
  #graceTimer: number | undefined;

  constructor(
    private readonly tickets: TicketEndpoint,
    private readonly host: HTMLElement,
    /** Asks the gateway to drop all input (an embed launched view-only); the page's toggle cannot undo it. */
    private readonly viewOnlyAtGateway: boolean,
    private readonly events: ScreenEvents,
  ) {}

  /** The current session's viewer, from its creation until the session ends. */
  get rfb(): RFB | null {
    return this.#rfb;
  }

  /** Starts a new session with a fresh ticket; ignored while one is starting or running. */
  connect(): void {
    if (this.#busy) return;
    this.#busy = true;
    const attempt = ++this.#attempt;
    this.events.state('connecting');
    void this.#start(attempt);
  }

  /** Ends the session from this side (close code 1000); a session still starting is abandoned. */
  disconnect(): void {
    const ws = this.#socket;
    if (ws) {
      // Closed here rather than through noVNC, whose own close carries no code.
      ws.close(CloseCode.normal, CLOSED_BY_PAGE_REASON);
      return;
    }
    if (!this.#busy) return;
    // Still asking for a ticket: the answer will be ignored.
    this.#attempt += 1;
    this.#busy = false;
    this.events.state('disconnected');
    this.events.disconnected({ kind: 'closed', code: CloseCode.normal, reason: CLOSED_BY_PAGE_REASON, final: false, opened: false, serverError: null });
  }

  async #start(attempt: number): Promise<void> {
    // Otherwise never view-only at the gateway: the page's View only toggle must be able to give input back.
    const opened = await openTicketedSocket(this.tickets, this.viewOnlyAtGateway ? { kind: 'vnc', viewOnly: true } : { kind: 'vnc' }, SUBPROTOCOLS.vnc, 'screen');
    if (attempt !== this.#attempt) {
      if (opened.ok) opened.ws.close();
      return;
    }
    if (!opened.ok) {
      const { refusal } = opened;
      return this.#refused(
        refusal.status === NO_SCREEN_STATUS ? { ...refusal, message: 'This build has no screen that can be shown in the browser.', final: true } : refusal,
      );
    }
    const { ws } = opened;
    // Listeners go on before noVNC's, so the close code is recorded before noVNC reacts to it.
    this.#watchSocket(ws);
    let rfb: RFB;
    try {
      // No credentials, ever: the gateway logs in to the VM and offers the browser only "None".
      rfb = new RFB(this.host, ws, { shared: true });
    } catch {
      this.#socket = null;
      ws.close();
      this.#refused({ status: 0, code: 'viewer_failed', message: 'This browser could not start the screen viewer.', final: false });
      return;
    }
    this.#rfb = rfb;
    rfb.focusOnClick = true;
    rfb.qualityLevel = QUALITY_LEVEL;
    rfb.compressionLevel = COMPRESSION_LEVEL;
    // A CI VM's resolution is part of what is being tested; the viewer never changes it.
    rfb.resizeSession = false;
    this.#watchViewer(ws, rfb);
    this.events.created(rfb);
  }

  #watchSocket(ws: WebSocket): void {
    this.#socket = ws;
    this.#failure = null;
    this.#opened = false;
    const current = (): boolean => this.#socket === ws;
    ws.addEventListener('open', () => {
      if (current()) this.#opened = true;
    });
    ws.addEventListener('error', () => {
      if (current()) this.#closeSoon(ws);
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      if (current()) this.#closed(event.code, event.reason);
    });
  }

  #watchViewer(ws: WebSocket, rfb: RFB): void {
    const current = (): boolean => this.#socket === ws;
    rfb.addEventListener('connect', () => {
      if (!current()) return;
      this.events.state('connected');
      this.events.connected(rfb);
    });
    rfb.addEventListener('desktopname', (event) => {
      if (current()) this.events.desktopName(event.detail.name);
    });
    rfb.addEventListener('clipboard', (event) => {
      if (current()) this.events.clipboard(event.detail.text);
    });
    // The VM's reason is not shown: the gateway replaces it anyway, and it is the VM's word.
    rfb.addEventListener('securityfailure', () => {
      if (current()) this.#failure = VM_REFUSED_LOGIN;
    });
    rfb.addEventListener('credentialsrequired', () => {
      if (!current()) return;
      this.#failure = CREDENTIALS_ASKED;
      rfb.disconnect();
    });
    rfb.addEventListener('disconnect', (event) => {
      if (!current()) return;
      // A closed socket means the gateway or the network ended it and 'close' has the code. Open
      // means noVNC gave up by itself and is closing it; the close that follows carries no code
      // worth showing.
      if (ws.readyState === WebSocket.CLOSED) return;
      if (!event.detail.clean) this.#failure ??= STREAM_UNREADABLE;
      this.#closeSoon(ws);
    });
  }

  #closeSoon(ws: WebSocket): void {
    if (this.#graceTimer !== undefined) return;
    this.#graceTimer = window.setTimeout(() => {
      this.#graceTimer = undefined;
      if (this.#socket === ws) this.#closed(ABNORMAL_CLOSURE_CODE, '');
    }, CLOSE_GRACE_MS);
  }

  #closed(code: number, reason: string): void {
    window.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#socket = null;
    this.#rfb = null;
    this.#busy = false;
    this.events.state('disconnected');
    this.events.disconnected({
      kind: 'closed',
      code,
      reason,
      final: FINAL_CLOSE_CODES.has(code),
      opened: this.#opened,
      serverError: this.#failure,
    });
  }

  #refused(refusal: ConnectionRefusal): void {
    this.#busy = false;
    this.events.state('disconnected');
    this.events.disconnected({ kind: 'refused', ...refusal });
  }
}
