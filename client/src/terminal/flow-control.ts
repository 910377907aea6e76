/**
 * Output acknowledgements of porthole.ssh.v1. The gateway only keeps reading from the VM while
 * enough output is acknowledged, and we acknowledge only what xterm.js has parsed: a flood of
 * output then waits at the gateway instead of piling up in this tab, and Ctrl-C stays responsive.
 * Input never waits on any of this.
 */
import { TERMINAL_ACK_BATCH_BYTES, TERMINAL_ACK_MIN_BYTES } from '../../../shared/src/limits.js';

export class AckCounter {
  #outstandingWrites = 0;
  #pendingBytes = 0;

  constructor(
    private readonly batchBytes: number = TERMINAL_ACK_BATCH_BYTES,
    private readonly minBytes: number = TERMINAL_ACK_MIN_BYTES,
  ) {}

  /** An output frame was handed to xterm.js. */
  received(): void {
    this.#outstandingWrites += 1;
  }

  /**
   * xterm.js finished parsing a frame of `bytes`. Returns how many bytes to acknowledge now, or 0
   * to keep batching. Acks go out per batch, and also once everything received is parsed if that
   * is at least `minBytes`, so the tail of a burst does not wait for more output. Smaller tails
   * (keystroke echoes, a prompt) wait for later acks: they stay far below the gateway's resume
   * mark, so they can never keep it paused, and an ack per echo would cost more than the echo.
   */
  parsed(bytes: number): number {
    this.#outstandingWrites = Math.max(0, this.#outstandingWrites - 1);
    this.#pendingBytes += bytes;
    const caughtUp = this.#outstandingWrites === 0;
    if (this.#pendingBytes >= this.batchBytes || (caughtUp && this.#pendingBytes >= this.minBytes)) {
      const ack = this.#pendingBytes;
      this.#pendingBytes = 0;
      return ack;
    }
    return 0;
  }
}
