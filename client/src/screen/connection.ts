/**
 * One screen session at a time: noVNC on the socket session/ticketed-session.ts opens. Knows
 * nothing about the page's controls; the page renders what it reports and applies its settings to
 * each new viewer.
 *
 * The page opens the WebSocket itself and hands it to noVNC, because noVNC's `disconnect` event
 * does not say why: the gateway's close code (window closed, revoked, VM unreachable…) is only on
 * the socket's own `close` event.
 *
 * A screen that was shown and then lost only its connection (1001, 1005, 1006, a network error)
 * reconnects by itself with a new ticket and a new viewer: the desktop's state lives on the VM,
 * so there is nothing to resume but the picture.
 *
 * A watching page (`watching`: another member's screen session id, issue #16) asks for a watch
 * ticket instead: the gateway gives it a VM connection of its own and drops its input. It never
 * opens a screen of its own: once the watched session has ended, so has the page's.
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

const VM_REFUSED_LOGIN = 'The build VM refused the screen login; its screen password may have changed. Rebuild with remote access if it persists.';
/** The gateway's reasons are one short sentence; anything longer is not one of them. */
const MAX_REASON_CHARS = 200;

function gatewaySentence(reason: string | undefined): string | null {
  const text = reason?.trim() ?? '';
  return text.length > 0 && text.length <= MAX_REASON_CHARS ? text : null;
}
const CREDENTIALS_ASKED =
  'The screen asked this page for a password, which the gateway should have answered itself. The connection was closed; report this if it happens again.';
const STREAM_UNREADABLE = 'The screen stream from the gateway could not be understood, so the viewer stopped. Reconnect to try again.';

/**
 * How long after a drop the screen keeps reconnecting by itself: as long as a terminal's session
 * is held by default. Someone away longer gets the Reconnect button instead of a page that keeps
 * knocking on the gateway's door.
 */
const SCREEN_RECONNECT_FOR_MS = 300_000;
/** A watching page that lost its socket tries to join again this long, as a watching terminal does. */
const WATCH_RETRY_MS = 60_000;
/** The watch ticket's answer once the watched session is gone: asking again cannot help. */
const SESSION_NOT_FOUND = 'session_not_found';
const WATCHED_SESSION_ENDED = 'The screen you were watching is no longer shared: its session has ended.';


export interface ScreenEvents extends SessionEvents {
  /** A new viewer is in the page, on `ws`; apply settings here, before its first frame. */
  created(rfb: RFB, ws: WebSocket): void;
  connected(rfb: RFB): void;
  /**
   * The shown desktop's connection dropped and a new one is on its way. `lastFrame`: what it
   * showed, to stand in for it meanwhile (noVNC removes its canvas); null if it could not be read.
   */
  dropped(lastFrame: ImageData | null): void;
  /** Untrusted: whatever the VM's VNC server calls itself. */
  desktopName(name: string): void;
  /** Untrusted text the VM put on its clipboard. */
  clipboard(text: string): void;
}

export class ScreenConnection {
  readonly #session: TicketedSession;
  #rfb: RFB | null = null;
  /** The viewer that reached the desktop, until its connection ends: a drop then reconnects by itself. */
  #shown: RFB | null = null;
  /** Between a shown desktop's drop and the end of reconnecting to it. */
  #reconnecting = false;

  constructor(
    tickets: TicketEndpoint,
    private readonly host: HTMLElement,
    /** Asks the gateway to drop all input (an embed launched view-only); the page's toggle cannot undo it. */
    viewOnlyAtGateway: boolean,
    private readonly events: ScreenEvents,
    /** Another member's screen session this page watches; null: the page's own screen. */
    watching: string | null = null,
  ) {
    // Otherwise never view-only at the gateway: the page's View only toggle must be able to give input back.
    const request: TicketRequest =
      watching !== null ? { kind: 'vnc', sessionId: watching, mode: 'watch' } : viewOnlyAtGateway ? { kind: 'vnc', viewOnly: true } : { kind: 'vnc' };
    const retryMs = watching !== null ? WATCH_RETRY_MS : SCREEN_RECONNECT_FOR_MS;
    this.#session = new TicketedSession(
      {
        tickets,
        request: () => request,
        subprotocol: SUBPROTOCOLS.vnc,
        noun: 'screen',
        closeGraceMs: CLOSE_GRACE_MS,
        explainRefusal: (refusal) => {
          if (refusal.status === NO_SCREEN_STATUS) return { ...refusal, message: 'This build has no screen that can be shown in the browser.', final: true };
          if (refusal.code === SESSION_NOT_FOUND) return { ...refusal, message: WATCHED_SESSION_ENDED, final: true };
          return refusal;
        },
        watch: (socket) => this.#startViewer(socket),
        holdMs: () => (this.#shown !== null || this.#reconnecting ? retryMs : 0),
        ended: (why) => {
          this.#reconnecting = false;
          return why;
        },
      },
      {
        state: (state) => {
          if (state === 'reconnecting' || state === 'disconnected') this.#viewerEnded(state === 'reconnecting');
          events.state(state);
        },
        disconnected: (why) => events.disconnected(why),
        progress: (step) => events.progress?.(step),
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

  /**
   * The viewer ends with its connection. A shown desktop's last frame is read before noVNC lets
   * go of its canvas: the session's close listener, which gets here, runs before noVNC's.
   */
  #viewerEnded(reconnecting: boolean): void {
    const shown = this.#shown;
    this.#rfb = null;
    this.#shown = null;
    if (!reconnecting || shown === null) return;
    this.#reconnecting = true;
    this.events.dropped(lastFrameOf(shown));
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
    // A CI VM's resolution is part of what is being tested; the viewer never changes it.
    rfb.resizeSession = false;
    this.#watchViewer(socket, rfb);
    this.events.created(rfb, socket.ws);
  }

  /** What went wrong in the VNC handshake explains the close better than its code. */
  #watchViewer(socket: SessionSocket, rfb: RFB): void {
    rfb.addEventListener('connect', () => {
      if (!socket.current) return;
      this.#shown = rfb;
      this.#reconnecting = false;
      socket.connected();
      this.events.connected(rfb);
    });
    rfb.addEventListener('desktopname', (event) => {
      if (socket.current) this.events.desktopName(event.detail.name);
    });
    rfb.addEventListener('clipboard', (event) => {
      if (socket.current) this.events.clipboard(event.detail.text);
    });
    // The reason is the gateway's own sentence (it never passes on the VM's), shown as text.
    rfb.addEventListener('securityfailure', (event) => {
      if (socket.current) socket.serverError = gatewaySentence(event.detail.reason) ?? VM_REFUSED_LOGIN;
    });
    rfb.addEventListener('credentialsrequired', () => {
      if (!socket.current) return;
      socket.serverError = CREDENTIALS_ASKED;
      socket.giveUp();
      rfb.disconnect();
    });
    rfb.addEventListener('disconnect', (event) => {
      if (!socket.current) return;
      // A closed socket means the gateway or the network ended it and 'close' has the code. Open
      // means noVNC gave up by itself and is closing it; the close that follows carries no code
      // worth showing, and reconnecting would only fail the same way.
      if (socket.ws.readyState === WebSocket.CLOSED) return;
      if (!event.detail.clean) socket.serverError ??= STREAM_UNREADABLE;
      socket.giveUp();
    });
  }
}

/** Null for a desktop never drawn (no size yet) or a canvas the browser will not read back. */
function lastFrameOf(rfb: RFB): ImageData | null {
  try {
    const frame = rfb.getImageData();
    return frame.width > 0 && frame.height > 0 ? frame : null;
  } catch {
    return null;
  }
}
