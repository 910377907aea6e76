/**
 * What a protocol session reports to its owner while it runs: bytes each way (metrics), terminal
 * output and sizes (recordings), backpressure pauses and host key decisions (audit). The bridges
 * call it and know nothing about what listens; sessions/live-connection.ts composes the
 * listeners. Calls must be cheap and must not throw: they sit on the output path.
 */
import type { Person } from './protocol.js';

export type HostKeyEvent =
  | { readonly kind: 'pinned'; readonly fingerprint: string }
  | { readonly kind: 'mismatch'; readonly expected: string; readonly presented: string };

/** Hears nothing: for a session whose events are not its own to report (a watcher's seat). */
export const IGNORING_OBSERVER: SessionObserver = {
  output: () => undefined,
  input: () => undefined,
  resize: () => undefined,
  paused: () => undefined,
  hostKey: () => undefined,
  resumed: () => undefined,
  typist: () => undefined,
  control: () => undefined,
};

export interface SessionObserver {
  /** A chunk about to be sent to the browser (terminal output, or screen updates). */
  output(chunk: Buffer): void;
  /** Bytes the browser sent towards the VM. */
  input(bytes: number): void;
  /** The terminal's size: once when the shell opens, then after each resize. */
  resize(cols: number, rows: number): void;
  /** Reading from the VM paused because the browser fell behind. */
  paused(): void;
  hostKey(event: HostKeyEvent): void;
  /** A page resumed the session: it had received `requested` bytes; output goes on from `offset`. */
  resumed(requested: number, offset: number): void;
  /**
   * Input from now on comes from this person: said when the person typing changes (a watcher
   * handed control, then the owner again), for recordings to say who typed.
   */
  typist(person: Person): void;
  /** The session's owner let a watcher drive, or took it back (issue #16). */
  control(userId: string, mode: 'drive' | 'watch'): void;
}
