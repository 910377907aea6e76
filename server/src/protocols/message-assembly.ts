/**
 * How long and in how many pieces one client message may take to arrive. Reassembly costs
 * O(bytes) (chunk-queue.ts), but every piece still costs the gateway an event, a parse and a
 * bookkeeping step: a message announced large and then dribbled one byte per WebSocket frame (or
 * in empty frames) would hold a buffer and burn CPU on the gateway's only thread for as long as
 * the sender likes. A real client sends a message in a few large pieces and at once.
 */
export interface AssemblyLimits {
  /** Pieces any message may take regardless of its size (a header sent on its own, a flush boundary). */
  readonly baseFrames: number;
  /** Beyond the base, one more piece per this many bytes of the message. */
  readonly minAverageFrameBytes: number;
  /** From a message's first byte to its last. */
  readonly maxMillis: number;
}

export interface AssemblyProgress {
  /** Pieces (WebSocket messages, empty ones included) that carried part of this message so far. */
  readonly frames: number;
  /** The message's announced length, or what has arrived while its header is incomplete. */
  readonly messageBytes: number;
  readonly elapsedMs: number;
}

export type AssemblyDecision = 'ok' | 'too_many_frames' | 'too_slow';

/** Human reasons for the close frame (and the audit trail), per refusal. */
export const ASSEMBLY_REFUSALS: Readonly<Record<Exclude<AssemblyDecision, 'ok'>, string>> = {
  too_many_frames: 'a message was split into too many frames',
  too_slow: 'a message took too long to arrive',
};

export function frameAllowance(messageBytes: number, limits: AssemblyLimits): number {
  return limits.baseFrames + Math.ceil(messageBytes / limits.minAverageFrameBytes);
}

export function decideAssembly(progress: AssemblyProgress, limits: AssemblyLimits): AssemblyDecision {
  if (progress.frames > frameAllowance(progress.messageBytes, limits)) return 'too_many_frames';
  if (progress.elapsedMs > limits.maxMillis) return 'too_slow';
  return 'ok';
}
