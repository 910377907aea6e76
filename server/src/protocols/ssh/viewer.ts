/**
 * One page's socket reading a terminal session's output (./output-log.ts) at its own pace: a
 * cursor into the log, what its socket was handed and what the page acknowledged. Output goes out
 * at the end of the event-loop turn it arrived in — all that arrived during the turn as one
 * message, cut at the batch size — so a keystroke's echo leaves at once while a flood costs one
 * message per turn instead of one per SSH packet. A page well behind is handed whole messages
 * only, the rest waiting for more output or its next ack: under a flood a turn often brings a
 * single 4 KiB SSH packet, and each message costs the browser a task and a write. A page with too
 * much unacknowledged, or whose socket queues too much, is handed nothing more until it catches
 * up, and then reads on from the log. A page the log has left behind (only one that does not hold
 * the log back can be) goes on from the oldest whole line held, and is told so.
 */
import type { Attachment } from '../protocol.js';
import type { OutputLog } from './output-log.js';

export interface ViewerLimits {
  /** Sent and not acknowledged beyond this, the page is handed nothing more. */
  readonly unackedHighBytes: number;
  /** Queued in the socket beyond this, likewise. */
  readonly bufferedHighBytes: number;
  /** The most one message carries. */
  readonly batchBytes: number;
  /**
   * With more than this unacknowledged, only whole batches are handed over: the page has that
   * much to parse meanwhile, and the rest goes with its next ack. Must exceed what a caught-up
   * page may leave unacknowledged (docs/protocol.md §5), or a tail could wait for an ack that
   * never comes.
   */
  readonly wholeBatchesAboveBytes: number;
}

export interface ViewerEvents {
  /** Bytes handed to the socket. */
  readonly sent: (bytes: number) => void;
  /** The socket took a message or the page acknowledged: flow may have changed. */
  readonly progressed: () => void;
  /** Output the log no longer held was skipped for this page. */
  readonly skipped: () => void;
}

type Schedule = (callback: () => void) => void;

const endOfTurn: Schedule = (callback) => {
  setImmediate(callback);
};

export class TerminalViewer {
  readonly page: Attachment;
  readonly #log: OutputLog;
  readonly #limits: ViewerLimits;
  readonly #events: ViewerEvents;
  readonly #schedule: Schedule;
  /** Log offset of the next byte to hand to the socket. */
  #cursor: number;
  #sent = 0;
  #acked = 0;
  #scheduled = false;
  #stopped = false;

  constructor(page: Attachment, log: OutputLog, from: number, limits: ViewerLimits, events: ViewerEvents, schedule: Schedule = endOfTurn) {
    this.page = page;
    this.#log = log;
    this.#cursor = from;
    this.#limits = limits;
    this.#events = events;
    this.#schedule = schedule;
  }

  /** Sent to the socket and not yet acknowledged by the page. */
  get unacked(): number {
    return this.#sent - this.#acked;
  }

  /** Output this page has yet to acknowledge: unsent and unacknowledged. */
  get pending(): number {
    return this.#log.end - this.#cursor + this.unacked;
  }

  /** The log offset up to which this page has acknowledged (exact as long as it was never moved on). */
  get ackedOffset(): number {
    return this.#cursor - this.unacked;
  }

  /**
   * New output in the log, or room again: send at the end of this turn. A page that may be handed
   * nothing now is left alone: its acknowledgement or its socket's progress notifies it again.
   */
  notify(): void {
    if (this.#scheduled || this.#stopped || !this.#hasRoom()) return;
    this.#scheduled = true;
    this.#schedule(() => this.#pump());
  }

  /** The page acknowledged `bytes` more; credit beyond what was sent is a client bug and ignored. */
  acknowledge(bytes: number): void {
    this.#acked = Math.min(this.#sent, this.#acked + bytes);
    this.notify();
  }

  /** Sends nothing more (the page left or was replaced); a batch not yet handed over is dropped. */
  stop(): void {
    this.#stopped = true;
  }

  #hasRoom(): boolean {
    return this.unacked < this.#limits.unackedHighBytes && this.page.ws.bufferedAmount < this.#limits.bufferedHighBytes;
  }

  #pump(): void {
    this.#scheduled = false;
    const { ws } = this.page;
    if (this.#stopped || ws.readyState !== ws.OPEN || !this.#hasRoom()) return;
    // Skipped only when something can follow: a stalled page is told once it reads again, not at
    // every turn the log moves on without it (each notice would queue in its socket).
    if (this.#cursor < this.#log.start) {
      this.#cursor = this.#log.resumeOffset(this.#cursor);
      this.#events.skipped();
    }
    while (this.#cursor < this.#log.end && this.#hasRoom()) {
      if (this.#log.end - this.#cursor < this.#limits.batchBytes && this.unacked > this.#limits.wholeBatchesAboveBytes) return;
      const batch = this.#log.read(this.#cursor, this.#limits.batchBytes);
      this.#cursor += batch.length;
      this.#sent += batch.length;
      this.#events.sent(batch.length);
      ws.send(batch, { binary: true }, () => {
        if (this.#stopped) return;
        this.#events.progressed();
        if (this.#cursor < this.#log.end) this.notify();
      });
    }
  }
}
