/**
 * One terminal session at a time over porthole.ssh.v1: control messages, input and output
 * acknowledgements on the socket session/ticketed-session.ts opens. The shell outlives the socket
 * when the gateway holds it (`ready`'s resumeSeconds): a dropped socket, or a reloaded page, takes
 * the same shell up again from the output byte the page has. A watching page (`watching`: another
 * member's session id) joins that session instead: it never opens or holds a shell, types only
 * while the session's owner lets it, and after a drop joins again, getting the held output anew.
 * Knows nothing about the DOM; the page renders what it reports.
 */
import { SUBPROTOCOLS } from '../../../shared/src/protocol/kinds.js';
import { encodeClientControl, parseServerControl, type Participant } from '../../../shared/src/protocol/ssh-v1.js';
import type { TicketEndpoint, TicketRequest } from '../lib/connection-ticket.js';
import type { HeldSession, SessionMemory } from '../session/session-memory.js';
import type { Disconnect } from '../session/state.js';
import { TicketedSession, type SessionEnd, type SessionEvents, type SessionSocket } from '../session/ticketed-session.js';
import { AckCounter } from './flow-control.js';
import { heldSessionEnd } from './held-session-end.js';

/** Input frames stay well under the gateway's 64 KiB message limit (docs/protocol.md). */
const INPUT_FRAME_MAX_BYTES = 32 * 1024;

/** 'close' follows 'error' in the same task in every browser; a second is lavish. */
const CLOSE_AFTER_ERROR_GRACE_MS = 1000;

const MS_PER_SECOND = 1000;
/** A watching page that lost its socket tries to join again this long (the session may be held meanwhile). */
const WATCH_RETRY_MS = 60_000;

/** Where output goes; `parsed` must be called once the bytes are processed (xterm's write callback). */
export interface OutputSink {
  write(bytes: Uint8Array, parsed: () => void): void;
  size(): { readonly cols: number; readonly rows: number };
}

export interface ConnectionEvents extends SessionEvents {
  /** A new shell's socket is open; `afterAnother`: this page already showed a session, whose modes may linger. */
  started(afterAnother: boolean): void;
  /** `sessionId`: the session's id, which a watch link names. */
  /** `recorded`: the gateway records this session (the page discloses it). */
  ready(hostKey: string, sessionId: string, recorded: boolean): void;
  /** Watching: the shell's PTY size (the owner's), which the page shows instead of fitting its own. */
  ptySize(cols: number, rows: number): void;
  /** Who is attached to the session now (this page included, marked `you`). */
  participants(list: readonly Participant[]): void;
  /**
   * The held shell was taken up again; its output follows. `gap`: the gateway no longer had all
   * the output this page missed, so what follows starts later. `hostKey`: the one its `ready` named.
   */
  resumed(gap: boolean, hostKey: string, recorded: boolean): void;
  /** `closesAt` is the gateway's ISO time, `remainingMs` what it computed when sending. */
  window(remainingMs: number | null, closesAt: string | null): void;
  serverError(code: string, message: string): void;
  /** Something the user should know; the session goes on. */
  notice(code: string, message: string): void;
}

export class TerminalConnection {
  readonly #session: TicketedSession;
  readonly #encoder = new TextEncoder();
  /** The shell the gateway holds for this page: taken up again instead of starting a new one. */
  #held: HeldSession | null;
  /** `#held` came from an earlier page in this tab: if the gateway no longer has it, a new shell starts without a word. */
  #heldFromMemory: boolean;
  /** Output bytes received in the held session: where its output resumes. */
  #received = 0;
  /** Some socket of this page has opened: a new shell then follows another's output. */
  #shownAny = false;
  /**
   * Typing goes to the current socket: from its opening on a new shell (the gateway keeps what
   * comes before `ready`), only after `resumed` on a resumed one. Typing while reconnecting is
   * dropped, never queued for a socket that may not come.
   */
  #inputOpen = false;

  constructor(
    tickets: TicketEndpoint,
    private readonly sink: OutputSink,
    private readonly events: ConnectionEvents,
    private readonly memory: SessionMemory,
    private readonly watching: string | null = null,
  ) {
    this.#held = memory.read();
    this.#heldFromMemory = this.#held !== null;
    this.#session = new TicketedSession(
      {
        tickets,
        request: () => this.#request(),
        subprotocol: SUBPROTOCOLS.ssh,
        noun: 'terminal',
        closeGraceMs: CLOSE_AFTER_ERROR_GRACE_MS,
        watch: (socket) => this.#watch(socket),
        holdMs: () => (watching !== null ? WATCH_RETRY_MS : (this.#held?.resumeSeconds ?? 0) * MS_PER_SECOND),
        ended: (why, end) => this.#ended(why, end),
      },
      events,
    );
  }

  /** Takes up the held shell (after a reload, or one another tab took), else starts a new one; ignored while one is starting or running. */
  connect(): void {
    this.#session.connect();
  }

  /** Ends the session from this side (close code 1000); a session still starting is abandoned. */
  disconnect(): void {
    this.#session.disconnect();
  }

  /** Keystrokes as xterm.js reports them (UTF-16 text), sent as UTF-8 bytes. False: dropped, no shell takes input now. */
  sendInput(data: string): boolean {
    return this.#inputOpen && this.#sendOpen(this.#encoder.encode(data));
  }

  /** xterm.js's binary input (some mouse reports): one byte per char code. */
  sendBinary(data: string): boolean {
    return this.#inputOpen && this.#sendOpen(Uint8Array.from(data, (ch) => ch.charCodeAt(0) & 0xff));
  }

  /** The page's size; a watching page's is the owner's, which the gateway says, so it sends none. */
  resize(cols: number, rows: number): void {
    if (this.watching === null) this.#sendOpen(encodeClientControl({ type: 'resize', cols, rows }));
  }

  /** The session's owner lets this member's watching pages type (`drive`), or takes it back. */
  setControl(userId: string, mode: 'drive' | 'watch'): void {
    this.#sendOpen(encodeClientControl({ type: 'control', userId, mode }));
  }

  #request(): TicketRequest {
    if (this.watching !== null) return { kind: 'ssh', sessionId: this.watching, mode: 'watch' };
    return this.#held ? { kind: 'ssh', sessionId: this.#held.id } : { kind: 'ssh' };
  }

  #sendOpen(data: string | Uint8Array): boolean {
    const ws = this.#session.socket;
    if (ws?.readyState !== WebSocket.OPEN) return false;
    if (typeof data === 'string' || data.length <= INPUT_FRAME_MAX_BYTES) {
      ws.send(data);
      return true;
    }
    // A large paste: the gateway accepts frames up to 64 KiB, and the bytes are just a stream.
    for (let offset = 0; offset < data.length; offset += INPUT_FRAME_MAX_BYTES) ws.send(data.subarray(offset, offset + INPUT_FRAME_MAX_BYTES));
    return true;
  }

  #watch(socket: SessionSocket): void {
    const { ws } = socket;
    const resuming = socket.request.sessionId !== undefined && socket.request.mode !== 'watch';
    // Acks count what was parsed from this socket: the gateway's credit starts again with each one.
    const acks = new AckCounter();
    this.#inputOpen = false;

    ws.addEventListener('open', () => {
      if (!socket.current) return;
      if (resuming) {
        // The first message on a resume ticket; the size follows, as on every new socket.
        ws.send(encodeClientControl({ type: 'resume', offset: this.#received }));
      } else {
        this.#received = 0;
        // A watching page types only once the owner lets it (`participants`).
        this.#inputOpen = this.watching === null;
        this.events.started(this.#shownAny);
      }
      this.#shownAny = true;
      // The gateway opens the PTY at the first size it hears, so it goes before anything else.
      const { cols, rows } = this.sink.size();
      this.resize(cols, rows);
    });

    ws.addEventListener('message', (event: MessageEvent) => {
      if (!socket.current) return;
      const data: unknown = event.data;
      if (data instanceof ArrayBuffer) {
        const bytes = new Uint8Array(data);
        this.#received += bytes.byteLength;
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
          if (this.watching === null) this.#hold(message.resumeSeconds > 0 ? { id: message.sessionId, resumeSeconds: message.resumeSeconds, hostKey: message.hostKey } : null);
          socket.connected();
          this.events.ready(message.hostKey, message.sessionId, message.recorded);
          break;
        case 'size':
          this.events.ptySize(message.cols, message.rows);
          break;
        case 'participants':
          if (this.watching !== null) this.#inputOpen = message.list.some((p) => p.you && p.mode === 'drive');
          this.events.participants(message.list);
          break;
        case 'resumed': {
          if (!resuming || !this.#held) break;
          // Only ever later than asked (the oldest output the gateway still has); the output that follows starts there.
          const gap = message.offset > this.#received;
          this.#received = message.offset;
          this.#heldFromMemory = false;
          this.#inputOpen = true;
          socket.connected();
          this.events.resumed(gap, this.#held.hostKey, message.recorded);
          break;
        }
        case 'window':
          this.events.window(message.remainingMs, message.closesAt);
          break;
        case 'error':
          // The last one explains the close better than its code.
          socket.serverError = message.message;
          socket.serverErrorCode = message.code;
          this.events.serverError(message.code, message.message);
          break;
        case 'notice':
          this.events.notice(message.code, message.message);
          break;
        case undefined:
          break;
      }
    });
  }

  /** `null`: nothing is held (the gateway does not hold sessions, or this one ended). */
  #hold(session: HeldSession | null): void {
    this.#held = session;
    this.#heldFromMemory = false;
    if (session) this.memory.remember(session);
    else this.memory.forget();
  }

  /** What the page is told when the session is over, and whether the held shell is kept for Reconnect. */
  #ended(why: Disconnect, end: SessionEnd): Disconnect | null {
    this.#inputOpen = false;
    // A watched session that ended is over for this page: it never starts a shell of its own.
    if (this.watching !== null) return why;
    const after = heldSessionEnd(why, end, this.#heldFromMemory);
    if (after.kind === 'start-new') {
      this.#hold(null);
      this.connect();
      return null;
    }
    if (!after.keep) this.#hold(null);
    return after.why;
  }
}
