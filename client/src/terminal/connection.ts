/**
 * One terminal session at a time over porthole.ssh.v1: control messages, input and output
 * acknowledgements on the socket session/ticketed-session.ts opens. Knows nothing about the DOM;
 * the page renders what it reports.
 */
import { SUBPROTOCOLS } from '../../../shared/src/protocol/kinds.js';
import { encodeClientControl, parseServerControl } from '../../../shared/src/protocol/ssh-v1.js';
import type { TicketEndpoint } from '../lib/connection-ticket.js';
import { TicketedSession, type SessionEvents, type SessionSocket } from '../session/ticketed-session.js';
import { AckCounter } from './flow-control.js';

/** Input frames stay well under the gateway's 64 KiB message limit (docs/protocol.md). */
const INPUT_FRAME_MAX_BYTES = 32 * 1024;

/** 'close' follows 'error' in the same task in every browser; a second is lavish. */
const CLOSE_AFTER_ERROR_GRACE_MS = 1000;

/** Where output goes; `parsed` must be called once the bytes are processed (xterm's write callback). */
export interface OutputSink {
  write(bytes: Uint8Array, parsed: () => void): void;
  size(): { readonly cols: number; readonly rows: number };
}

export interface ConnectionEvents extends SessionEvents {
  /** The socket is open; `reconnect` is true for every session after the first. */
  opened(reconnect: boolean): void;
  ready(hostKey: string): void;
  /** `closesAt` is the gateway's ISO time, `remainingMs` what it computed when sending. */
  window(remainingMs: number | null, closesAt: string | null): void;
  serverError(code: string, message: string): void;
  /** Something the user should know; the session goes on. */
  notice(code: string, message: string): void;
}

export class TerminalConnection {
  readonly #session: TicketedSession;
  #sessions = 0;
  readonly #encoder = new TextEncoder();

  constructor(
    tickets: TicketEndpoint,
    private readonly sink: OutputSink,
    private readonly events: ConnectionEvents,
  ) {
    this.#session = new TicketedSession(
      {
        tickets,
        request: () => ({ kind: 'ssh' }),
        subprotocol: SUBPROTOCOLS.ssh,
        noun: 'terminal',
        closeGraceMs: CLOSE_AFTER_ERROR_GRACE_MS,
        watch: (socket) => this.#watch(socket),
      },
      events,
    );
  }

  /** Starts a new session with a fresh ticket; ignored while one is starting or running. */
  connect(): void {
    this.#session.connect();
  }

  /** Ends the session from this side (close code 1000); a session still starting is abandoned. */
  disconnect(): void {
    this.#session.disconnect();
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
    const ws = this.#session.socket;
    if (ws?.readyState !== WebSocket.OPEN) return;
    if (typeof data === 'string' || data.length <= INPUT_FRAME_MAX_BYTES) {
      ws.send(data);
      return;
    }
    // A large paste: the gateway accepts frames up to 64 KiB, and the bytes are just a stream.
    for (let offset = 0; offset < data.length; offset += INPUT_FRAME_MAX_BYTES) ws.send(data.subarray(offset, offset + INPUT_FRAME_MAX_BYTES));
  }

  #watch(socket: SessionSocket): void {
    const { ws } = socket;
    const acks = new AckCounter();

    ws.addEventListener('open', () => {
      if (!socket.current) return;
      this.#sessions += 1;
      this.events.opened(this.#sessions > 1);
      // The gateway opens the PTY at the first size it hears, so it goes before anything else.
      const { cols, rows } = this.sink.size();
      this.resize(cols, rows);
    });

    ws.addEventListener('message', (event: MessageEvent) => {
      if (!socket.current) return;
      const data: unknown = event.data;
      if (data instanceof ArrayBuffer) {
        const bytes = new Uint8Array(data);
        acks.received();
        this.sink.write(bytes, () => {
          const ack = acks.parsed(bytes.byteLength);
          if (ack > 0 && socket.current && ws.readyState === WebSocket.OPEN) ws.send(encodeClientControl({ type: 'ack', bytes: ack }));
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
          // The last one explains the close better than its code.
          socket.serverError = message.message;
          this.events.serverError(message.code, message.message);
          break;
        case 'notice':
          this.events.notice(message.code, message.message);
          break;
        // Only ever the answer to a resume, which this page does not ask for yet.
        case 'resumed':
        case undefined:
          break;
      }
    });
  }
}
