/**
 * One screen session at a time: noVNC on the socket session/ticketed-session.ts opens. Knows
 * nothing about the page's controls; the page renders what it reports and applies its settings to
 * each new viewer.
 *
 * The page opens the WebSocket itself and hands it to noVNC, because noVNC's `disconnect` event
 * does not say why: the gateway's close code (window closed, revoked, VM unreachable…) is only on
 * the socket's own `close` event.
 */
import RFB from '@novnc/novnc';
import { SUBPROTOCOLS } from '../../../shared/src/protocol/kinds.js';
import type { TicketEndpoint, TicketRequest } from '../lib/connection-ticket.js';
import { TicketedSession, type SessionEvents, type SessionSocket } from '../session/ticketed-session.js';

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

export interface ScreenEvents extends SessionEvents {
  /** A new viewer is in the page; apply settings here, before its first frame. */
  created(rfb: RFB): void;
  connected(rfb: RFB): void;
  /** Untrusted: whatever the VM's VNC server calls itself. */
  desktopName(name: string): void;
  /** Untrusted text the VM put on its clipboard. */
  clipboard(text: string): void;
}

export class ScreenConnection {
  readonly #session: TicketedSession;
  #rfb: RFB | null = null;

  constructor(
    tickets: TicketEndpoint,
    private readonly host: HTMLElement,
    /** Asks the gateway to drop all input (an embed launched view-only); the page's toggle cannot undo it. */
    viewOnlyAtGateway: boolean,
    private readonly events: ScreenEvents,
  ) {
    // Otherwise never view-only at the gateway: the page's View only toggle must be able to give input back.
    const request: TicketRequest = viewOnlyAtGateway ? { kind: 'vnc', viewOnly: true } : { kind: 'vnc' };
    this.#session = new TicketedSession(
      {
        tickets,
        request: () => request,
        subprotocol: SUBPROTOCOLS.vnc,
        noun: 'screen',
        closeGraceMs: CLOSE_GRACE_MS,
        explainRefusal: (refusal) =>
          refusal.status === NO_SCREEN_STATUS ? { ...refusal, message: 'This build has no screen that can be shown in the browser.', final: true } : refusal,
        watch: (socket) => this.#startViewer(socket),
      },
      {
        state: (state) => {
          // The viewer ends with its session.
          if (state === 'disconnected') this.#rfb = null;
          events.state(state);
        },
        disconnected: (why) => events.disconnected(why),
      },
    );
  }

  /** The current session's viewer, from its creation until the session ends. */
  get rfb(): RFB | null {
    return this.#rfb;
  }

  /** Starts a new session with a fresh ticket; ignored while one is starting or running. */
  connect(): void {
    this.#session.connect();
  }

  /**
   * Ends the session from this side (close code 1000); a session still starting is abandoned. The
   * socket is closed rather than noVNC, whose own close carries no code.
   */
  disconnect(): void {
    this.#session.disconnect();
  }

  /** The session's listeners are already on the socket, so its close code is recorded before noVNC reacts to it. */
  #startViewer(socket: SessionSocket): void {
    let rfb: RFB;
    try {
      // No credentials, ever: the gateway logs in to the VM and offers the browser only "None".
      rfb = new RFB(this.host, socket.ws, { shared: true });
    } catch {
      socket.refuse({ status: 0, code: 'viewer_failed', message: 'This browser could not start the screen viewer.', final: false });
      return;
    }
    this.#rfb = rfb;
    rfb.focusOnClick = true;
    rfb.qualityLevel = QUALITY_LEVEL;
    rfb.compressionLevel = COMPRESSION_LEVEL;
    // A CI VM's resolution is part of what is being tested; the viewer never changes it.
    rfb.resizeSession = false;
    this.#watchViewer(socket, rfb);
    this.events.created(rfb);
  }

  /** What went wrong in the VNC handshake explains the close better than its code. */
  #watchViewer(socket: SessionSocket, rfb: RFB): void {
    rfb.addEventListener('connect', () => {
      if (!socket.current) return;
      this.events.state('connected');
      this.events.connected(rfb);
    });
    rfb.addEventListener('desktopname', (event) => {
      if (socket.current) this.events.desktopName(event.detail.name);
    });
    rfb.addEventListener('clipboard', (event) => {
      if (socket.current) this.events.clipboard(event.detail.text);
    });
    // The VM's reason is not shown: the gateway replaces it anyway, and it is the VM's word.
    rfb.addEventListener('securityfailure', () => {
      if (socket.current) socket.serverError = VM_REFUSED_LOGIN;
    });
    rfb.addEventListener('credentialsrequired', () => {
      if (!socket.current) return;
      socket.serverError = CREDENTIALS_ASKED;
      rfb.disconnect();
    });
    rfb.addEventListener('disconnect', (event) => {
      if (!socket.current) return;
      // A closed socket means the gateway or the network ended it and 'close' has the code. Open
      // means noVNC gave up by itself and is closing it; the close that follows carries no code
      // worth showing.
      if (socket.ws.readyState === WebSocket.CLOSED) return;
      if (!event.detail.clean) socket.serverError ??= STREAM_UNREADABLE;
      socket.closeSoon();
    });
  }
}
