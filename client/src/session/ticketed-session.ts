/**
 * What the terminal and screen connections share: one session at a time over a ticketed
 * WebSocket. It mints the ticket, opens the socket, ignores whatever an abandoned attempt or an
 * older socket reports, and turns however the session ends into one `Disconnect`. When only the
 * attachment was lost and the owner says something is still held, it tries again by itself
 * (session/backoff.ts) instead of ending. What travels on the socket is the caller's.
 */
import { ABNORMAL_CLOSURE_CODE, CloseCode, FINAL_CLOSE_CODES, RESUMABLE_CLOSE_CODES } from '../../../shared/src/protocol/close-codes.js';
import { openTicketedSocket, type ConnectionRefusal, type TicketEndpoint, type TicketRequest } from '../lib/connection-ticket.js';
import { classifyEnd, type EndVerdict } from './end-verdict.js';
import { RetrySchedule } from './retry-schedule.js';
import { CLOSED_BY_PAGE_REASON, type ConnectStep, type ConnectionState, type Disconnect } from './state.js';

/** What every session reports, whatever travels on its socket. */
export interface SessionEvents {
  state(state: ConnectionState): void;
  /** How far a (re)connection has got, for the pane's "Connecting…" (session/pane-status.ts). */
  progress?(step: ConnectStep): void;
  disconnected(why: Disconnect): void;
}

/**
 * Why the session is over, for its owner: the verdict of end-verdict.ts, or `expired` when the
 * page kept failing to take a held session up until the hold had surely run out.
 */
export type SessionEnd = EndVerdict | 'expired';

/** One session's socket, as the protocol on it sees it. */
export interface SessionSocket {
  readonly ws: WebSocket;
  /** The ticket the socket was opened with: whether it takes up a held session, and which. */
  readonly request: TicketRequest;
  /** False once the session has ended or a newer one began: the socket's events are then the past. */
  readonly current: boolean;
  /** What the other end said went wrong; reported with the close, which it usually explains better than the code. */
  serverError: string | null;
  /** Its stable code, when the protocol has one (the terminal's `error` frame). */
  serverErrorCode: string | null;
  /** The protocol says the session is up (a shell is ready, the desktop is shown). */
  connected(): void;
  /** Stops waiting for the close code after the grace: the session is then reported closed with 1006. */
  closeSoon(): void;
  /**
   * The protocol on the socket gave up by itself (a stream it cannot read, a VM asking for
   * credentials): the end is final whatever its code, since another try would end the same way.
   */
  giveUp(): void;
  /** Gives up on the socket before it is used: closes it and reports the session refused. */
  refuse(refusal: ConnectionRefusal): void;
}

export interface TicketedSessionOptions {
  readonly tickets: TicketEndpoint;
  /** The ticket to ask for, read at every attempt (a resume names the session it takes up). */
  readonly request: () => TicketRequest;
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
  /**
   * How long after a drop something is still held that another socket would take up, read at the
   * drop and after each failed try; 0 (and by default): nothing is, so every end is final.
   */
  readonly holdMs?: () => number;
  /**
   * The session is over (or could not be taken up again). Returns what the page is told, or null
   * when the owner has started again by itself.
   */
  readonly ended?: (why: Disconnect, end: SessionEnd) => Disconnect | null;
}

export class TicketedSession {
  #socket: WebSocket | null = null;
  /** Bumped per attempt so a late answer from an abandoned attempt is ignored. */
  #attempt = 0;
  #busy = false;
  /** The page closed the current socket itself (Disconnect), so its end is the page's, whatever code the browser reports. */
  #closedByPage = false;
  readonly #retry = new RetrySchedule(() => this.#begin('reconnecting'));

  constructor(
    private readonly options: TicketedSessionOptions,
    private readonly events: SessionEvents,
  ) {}

  /** The current session's socket, from its creation until the session ends. */
  get socket(): WebSocket | null {
    return this.#socket;
  }

  /** Starts a session with a fresh ticket; ignored while one is starting or running. */
  connect(): void {
    if (this.#busy) return;
    this.#retry.stop();
    this.#begin('connecting');
  }

  /** Ends the session from this side (close code 1000); a session starting or waiting to be taken up again is abandoned. */
  disconnect(): void {
    const ws = this.#socket;
    if (ws) {
      this.#closedByPage = true;
      ws.close(CloseCode.normal, CLOSED_BY_PAGE_REASON);
      return;
    }
    if (!this.#busy && !this.#retry.active) return;
    // Still asking for a ticket, or waiting to ask again: any answer will be ignored.
    this.#attempt += 1;
    this.#end({ kind: 'closed', code: CloseCode.normal, reason: CLOSED_BY_PAGE_REASON, final: false, opened: false, resumable: false, serverError: null, serverErrorCode: null });
  }

  #begin(state: 'connecting' | 'reconnecting'): void {
    this.#busy = true;
    const attempt = ++this.#attempt;
    this.events.state(state);
    void this.#start(attempt);
  }

  async #start(attempt: number): Promise<void> {
    const { tickets, subprotocol, noun, explainRefusal } = this.options;
    const request = this.options.request();
    this.events.progress?.('ticket');
    const opened = await openTicketedSocket(tickets, request, subprotocol, noun);
    if (attempt !== this.#attempt) {
      if (opened.ok) opened.ws.close();
      return;
    }
    if (!opened.ok) return this.#end({ kind: 'refused', ...(explainRefusal?.(opened.refusal) ?? opened.refusal) });
    this.#watch(opened.ws, request);
  }

  #watch(ws: WebSocket, request: TicketRequest): void {
    this.#socket = ws;
    this.#closedByPage = false;
    let opened = false;
    let gaveUp = false;
    let graceTimer: number | undefined;
    const current = (): boolean => this.#socket === ws;

    const closed = (browserCode: number, browserReason: string): void => {
      window.clearTimeout(graceTimer);
      // A socket the page closed while it was still connecting reports 1006; the end was the page's all the same.
      const code = this.#closedByPage ? CloseCode.normal : browserCode;
      const reason = this.#closedByPage ? CLOSED_BY_PAGE_REASON : browserReason;
      const resumable = RESUMABLE_CLOSE_CODES.has(code) && !gaveUp;
      this.#end({ kind: 'closed', code, reason, final: FINAL_CLOSE_CODES.has(code), opened, resumable, serverError: socket.serverError, serverErrorCode: socket.serverErrorCode });
    };

    const socket: SessionSocket = {
      ws,
      request,
      get current() {
        return current();
      },
      serverError: null,
      serverErrorCode: null,
      connected: () => {
        if (!current()) return;
        this.#retry.stop();
        this.events.state('connected');
      },
      closeSoon: () => {
        if (graceTimer !== undefined) return;
        graceTimer = window.setTimeout(() => {
          if (current()) closed(ABNORMAL_CLOSURE_CODE, '');
        }, this.options.closeGraceMs);
      },
      giveUp: () => {
        if (!current()) return;
        gaveUp = true;
        socket.closeSoon();
      },
      refuse: (refusal) => {
        if (!current()) return;
        window.clearTimeout(graceTimer);
        this.#socket = null;
        ws.close();
        this.#end({ kind: 'refused', ...refusal });
      },
    };

    this.events.progress?.('gateway');
    ws.addEventListener('open', () => {
      if (!current()) return;
      opened = true;
      this.events.progress?.('vm');
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

  /** Every end of a socket or an attempt comes here: try again while something is held, else report. */
  #end(why: Disconnect): void {
    this.#socket = null;
    this.#busy = false;
    let end: SessionEnd = classifyEnd(why);
    if (end === 'transient') {
      const holdMs = this.options.holdMs?.() ?? 0;
      if (holdMs > 0) {
        if (this.#retry.next(holdMs)) {
          this.events.state('reconnecting');
          return;
        }
        end = 'expired';
      }
    }
    this.#retry.stop();
    const shown = this.options.ended ? this.options.ended(why, end) : why;
    if (shown === null) return;
    this.events.state('disconnected');
    this.events.disconnected(shown);
  }
}
