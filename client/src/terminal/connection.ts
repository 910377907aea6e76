/**
 * One terminal session at a time over porthole.ssh.v1: ticket, WebSocket, control messages and
 * output acknowledgements. Knows nothing about the DOM; the page renders what it reports.
 */
import { CloseCode, FINAL_CLOSE_CODES } from '../../../shared/src/protocol/close-codes.js';
import { SUBPROTOCOLS } from '../../../shared/src/protocol/kinds.js';
import { encodeClientControl, parseServerControl } from '../../../shared/src/protocol/ssh-v1.js';
import { AckCounter } from './flow-control.js';
import { openTicketedSocket, type ConnectionRefusal, type TicketEndpoint } from '../lib/connection-ticket.js';
import { ABNORMAL_CLOSURE_CODE, CLOSED_BY_PAGE_REASON, type ConnectionState, type Disconnect } from '../session/state.js';

/** Input frames stay well under the gateway's 64 KiB message limit (docs/protocol.md). */
const INPUT_FRAME_MAX_BYTES = 32 * 1024;

/** 'close' follows 'error' in the same task in every browser; a second is lavish. */
const CLOSE_AFTER_ERROR_GRACE_MS = 1000;

/** Where output goes; `parsed` must be called once the bytes are processed (xterm's write callback). */
export interface OutputSink {
  write(bytes: Uint8Array, parsed: () => void): void;
  size(): { readonly cols: number; readonly rows: number };
}

export interface ConnectionEvents {
  state(state: ConnectionState): void;
  /** The socket is open; `reconnect` is true for every session after the first. */
  opened(reconnect: boolean): void;
  ready(hostKey: string): void;
  /** `closesAt` is the gateway's ISO time, `remainingMs` what it computed when sending. */
  window(remainingMs: number | null, closesAt: string | null): void;
  serverError(code: string, message: string): void;
  /** Something the user should know; the session goes on. */
  notice(code: string, message: string): void;
  disconnected(why: Disconnect): void;
}

export class TerminalConnection {
  #socket: WebSocket | null = null;
  /** Bumped per attempt so a late answer from an abandoned attempt is ignored. */
  #attempt = 0;
  #busy = false;
  #sessions = 0;
  readonly #encoder = new TextEncoder();

  constructor(
    private readonly tickets: TicketEndpoint,
    private readonly sink: OutputSink,
    private readonly events: ConnectionEvents,
  ) {}

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

  /** Keystrokes as xterm.js reports them (UTF-16 text), sent as UTF-8 bytes. */
  sendInput(data: string): void {
    this.#sendOpen(this.#encoder.encode(data));
  }

  /** xterm.js's binary input (some mouse reports): one byte per char code. */
  sendBinary(data: string): void {
    this.#sendOpen(Uint8Array.from(data, (ch) => ch.charCodeAt(0) & 0xff));
  }

  resize(cols: number, rows: number): void {
    this.#sendOpen(encodeClientControl({ type: 'resize', cols, rows }));
  }

  #sendOpen(data: string | Uint8Array): void {
    const ws = this.#socket;
    if (ws?.readyState !== WebSocket.OPEN) return;
    if (typeof data === 'string' || data.length <= INPUT_FRAME_MAX_BYTES) {
      ws.send(data);
      return;
    }
    // A large paste: the gateway accepts frames up to 64 KiB, and the bytes are just a stream.
    for (let offset = 0; offset < data.length; offset += INPUT_FRAME_MAX_BYTES) ws.send(data.subarray(offset, offset + INPUT_FRAME_MAX_BYTES));
  }

  async #start(attempt: number): Promise<void> {
    const opened = await openTicketedSocket(this.tickets, { kind: 'ssh' }, SUBPROTOCOLS.ssh, 'terminal');
    if (attempt !== this.#attempt) {
      if (opened.ok) opened.ws.close();
      return;
    }
    if (!opened.ok) return this.#refused(opened.refusal);
    this.#socket = opened.ws;
    this.#watch(opened.ws);
  }

  #watch(ws: WebSocket): void {
    const acks = new AckCounter();
    let opened = false;
    let serverError: string | null = null;
    const current = (): boolean => this.#socket === ws;

    ws.addEventListener('open', () => {
      if (!current()) return;
      opened = true;
      this.#sessions += 1;
      this.events.opened(this.#sessions > 1);
      // The gateway opens the PTY at the first size it hears, so it goes before anything else.
      const { cols, rows } = this.sink.size();
      this.resize(cols, rows);
    });

    ws.addEventListener('message', (event: MessageEvent) => {
      if (!current()) return;
      const data: unknown = event.data;
      if (data instanceof ArrayBuffer) {
        const bytes = new Uint8Array(data);
        acks.received();
        this.sink.write(bytes, () => {
          const ack = acks.parsed(bytes.byteLength);
          if (ack > 0 && current() && ws.readyState === WebSocket.OPEN) ws.send(encodeClientControl({ type: 'ack', bytes: ack }));
        });
        return;
      }
      if (typeof data !== 'string') return;
      const message = parseServerControl(data);
      switch (message?.type) {
        case 'ready':
          this.events.state('connected');
          this.events.ready(message.hostKey);
          break;
        case 'window':
          this.events.window(message.remainingMs, message.closesAt);
          break;
        case 'error':
          serverError = message.message;
          this.events.serverError(message.code, message.message);
          break;
        case 'notice':
          this.events.notice(message.code, message.message);
          break;
        case undefined:
          break;
      }
    });

    // Browsers follow 'error' with 'close', which carries the code; the timer only keeps the page
    // from showing "Connecting…" forever if one ever does not.
    ws.addEventListener('error', () => {
      window.setTimeout(() => {
        if (current()) this.#closed(ws, ABNORMAL_CLOSURE_CODE, '', opened, serverError);
      }, CLOSE_AFTER_ERROR_GRACE_MS);
    });

    ws.addEventListener('close', (event: CloseEvent) => {
      if (current()) this.#closed(ws, event.code, event.reason, opened, serverError);
    });
  }

  #closed(ws: WebSocket, code: number, reason: string, opened: boolean, serverError: string | null): void {
    if (this.#socket !== ws) return;
    this.#socket = null;
    this.#busy = false;
    this.events.state('disconnected');
    this.events.disconnected({ kind: 'closed', code, reason, final: FINAL_CLOSE_CODES.has(code), opened, serverError });
  }

  #refused(refusal: ConnectionRefusal): void {
    this.#busy = false;
    this.events.state('disconnected');
    this.events.disconnected({ kind: 'refused', ...refusal });
  }
}
