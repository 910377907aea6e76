/** Limits both sides agree on. Units are in the names. */

/** Control API bodies are small JSON documents; a private key is the largest field. */
export const CONTROL_BODY_LIMIT_BYTES = 64 * 1024;
/** Browser form and JSON bodies (login, ticket requests) are tiny. */
export const BROWSER_BODY_LIMIT_BYTES = 16 * 1024;
/**
 * The largest RFB message a screen page may send (the gateway holds one whole until complete):
 * noVNC's zlib-compressed clipboard stays far below it, and a larger announcement is a client
 * trying to make the gateway buffer. The gateway closes the screen past it, so the page checks
 * first.
 */
export const VNC_CLIENT_MESSAGE_MAX_BYTES = 1024 * 1024;
/** Access window countdown refresh; one second is what a human reads. */
export const COUNTDOWN_TICK_MS = 1000;

/**
 * Terminal flow control (docs/protocol.md). The browser acknowledges output once xterm.js has
 * parsed it; the gateway stops reading from the VM above the high mark and resumes below the low
 * one. The high mark is what the page can parse while an ack travels back: xterm.js parses in
 * timer and frame-paced slices, so an ack round trip through a loaded browser takes 10–25 ms, and
 * 256 KiB per round trip held the page to ~10 MB/s with its main thread idle (bench/, issue #6);
 * 1 MiB lets it run at ~15 MB/s and more did not help. What is in flight when the user presses
 * Ctrl-C must still be drawn before the prompt returns: 1 MiB here plus the shell's SSH window
 * (256 KiB, SSH_SHELL_WINDOW_MAX_BYTES), a fraction of a second at xterm.js's 5–35 MB/s.
 */
export const TERMINAL_UNACKED_HIGH_BYTES = 1024 * 1024;
/**
 * A paused VM is read again once the page's unacknowledged output is down to this, so the page
 * still has most of the credit to parse while the VM's next output comes through. Most of it is
 * in the browser's socket buffers, not yet in the page (Chromium, 51 MB `cat`: the gateway at
 * 1 MiB unacked while the page held ≤ 256 KiB unparsed); resuming at 256 KiB left the VM paused
 * 50–85 % of a flood and the page idle half the time. Hysteresis: a pause lasts ≥ 256 KiB of acks.
 */
export const TERMINAL_UNACKED_LOW_BYTES = 768 * 1024;
/** The browser batches acknowledgements: one per this many bytes, or when it has caught up. */
export const TERMINAL_ACK_BATCH_BYTES = 32 * 1024;
/**
 * A caught-up browser acknowledges only once this much is pending: an ack per keystroke echo or
 * per small packet of a slow trickle costs the gateway a message each for nothing. Unacked
 * remainders stay below TERMINAL_ACK_BATCH_BYTES, itself below TERMINAL_UNACKED_LOW_BYTES, so they
 * can never keep the gateway paused.
 */
export const TERMINAL_ACK_MIN_BYTES = 8 * 1024;
/**
 * The gateway sends the VM output of one event-loop turn as one binary message, up to this size:
 * a flood then costs one message (and one browser write and ack) per turn instead of one per SSH
 * packet, while a keystroke echo is never held back. Large enough to carry a turn's worth of
 * socket reads, small enough that the browser starts drawing early.
 */
export const TERMINAL_OUTPUT_BATCH_BYTES = 64 * 1024;
