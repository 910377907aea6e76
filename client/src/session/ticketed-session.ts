/**
 * What the terminal and screen connections share: one session at a time over a ticketed
 * WebSocket. It mints the ticket, opens the socket, ignores whatever an abandoned attempt or an
 * older socket reports, and turns however the session ends into one `Disconnect`. What travels on
 * the socket is the caller's.
 */
import { CloseCode, FINAL_CLOSE_CODES } from '../../../shared/src/protocol/close-codes.js';
import { openTicketedSocket, type ConnectionRefusal, type TicketEndpoint, type TicketRequest } from '../lib/connection-ticket.js';
import { ABNORMAL_CLOSURE_CODE, CLOSED_BY_PAGE_REASON, type ConnectionState, type Disconnect } from './state.js';

/** What every session reports, whatever travels on its socket. */
export interface SessionEvents {
  state(state: ConnectionState): void;
  disconnected(why: Disconnect): void;
}

/** One session's socket, as the protocol on it sees it. */
export interface SessionSocket {
  readonly ws: WebSocket;
  /** False once the session has ended or a newer one began: the socket's events are then the past. */
  readonly current: boolean;
  /** What the other end said went wrong; reported with the close, which it usually explains better than the code. */
  serverError: string | null;
  /** Stops waiting for the close code after the grace: the session is then reported closed with 1006. */
  closeSoon(): void;
  /** Gives up on the socket before it is used: closes it and reports the session refused. */
  refuse(refusal: ConnectionRefusal): void;
}

export interface TicketedSessionOptions {
  readonly tickets: TicketEndpoint;
  readonly request: TicketRequest;
  /** The data subprotocol, offered beside the ticket. */
  readonly subprotocol: string;
  /** Names the connection in messages ("terminal"). */
  readonly noun: string;
  /** How long after 'error' (or `closeSoon`) to wait for the socket's 'close' and its code. */
  readonly closeGraceMs: number;
  /** The caller's own words for a refused ticket request it knows more about. */
  readonly explainRefusal?: (refusal: ConnectionRefusal) => ConnectionRefusal;
  /** A new session's socket, with the close listeners already on; the protocol's listeners run after them. */
  readonly watch: (socket: SessionSocket) => void;
}

export class TicketedSession {
  #socket: WebSocket | null = null;
  /** Bumped per attempt so a late answer from an abandoned attempt is ignored. */
  #attempt = 0;
  #busy = false;

  constructor(
    private readonly options: TicketedSessionOptions,
    private readonly events: SessionEvents,
  ) {}

  /** The current session's socket, from its creation until the session ends. */
  get socket(): WebSocket | null {
    return this.#socket;
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
    const { tickets, request, subprotocol, noun, explainRefusal } = this.options;
    const opened = await openTicketedSocket(tickets, request, subprotocol, noun);
    if (attempt !== this.#attempt) {
      if (opened.ok) opened.ws.close();
      return;
    }
    if (!opened.ok) return this.#refused(explainRefusal?.(opened.refusal) ?? opened.refusal);
    this.#watch(opened.ws);
  }

  #watch(ws: WebSocket): void {
    this.#socket = ws;
    let opened = false;
    let graceTimer: number | undefined;
    const current = (): boolean => this.#socket === ws;

    const closed = (code: number, reason: string): void => {
      window.clearTimeout(graceTimer);
      this.#socket = null;
      this.#busy = false;
      this.events.state('disconnected');
      this.events.disconnected({ kind: 'closed', code, reason, final: FINAL_CLOSE_CODES.has(code), opened, serverError: socket.serverError });
    };

    const socket: SessionSocket = {
      ws,
      get current() {
        return current();
      },
      serverError: null,
      closeSoon: () => {
        if (graceTimer !== undefined) return;
        graceTimer = window.setTimeout(() => {
          if (current()) closed(ABNORMAL_CLOSURE_CODE, '');
        }, this.options.closeGraceMs);
      },
      refuse: (refusal) => {
        if (!current()) return;
        window.clearTimeout(graceTimer);
        this.#socket = null;
        ws.close();
        this.#refused(refusal);
      },
    };

    ws.addEventListener('open', () => {
      if (current()) opened = true;
    });
    // Browsers follow 'error' with 'close', which carries the code; the grace only keeps the page
    // from showing "Connecting…" forever if one ever does not.
    ws.addEventListener('error', () => {
      if (current()) socket.closeSoon();
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      if (current()) closed(event.code, event.reason);
    });
    this.options.watch(socket);
  }

  #refused(refusal: ConnectionRefusal): void {
    this.#busy = false;
    this.events.state('disconnected');
    this.events.disconnected({ kind: 'refused', ...refusal });
  }
}
