/**
 * When to stop and restart reading terminal output from the VM. Pure so the thresholds can be
 * tested exhaustively: pausing must never depend on typing, and must always resume once the
 * browser catches up.
 */
export interface FlowState {
  /** Bytes sent to the browser that it has not acknowledged as rendered. */
  readonly unackedBytes: number;
  /** Bytes queued in the WebSocket not yet handed to the network. */
  readonly bufferedBytes: number;
  readonly paused: boolean;
}

export interface FlowLimits {
  readonly unackedHighBytes: number;
  readonly unackedLowBytes: number;
  readonly bufferedHighBytes: number;
  readonly bufferedLowBytes: number;
}

export type FlowAction = 'pause' | 'resume' | 'none';

export function decideFlow(state: FlowState, limits: FlowLimits): FlowAction {
  if (!state.paused) {
    return state.unackedBytes > limits.unackedHighBytes || state.bufferedBytes > limits.bufferedHighBytes ? 'pause' : 'none';
  }
  return state.unackedBytes <= limits.unackedLowBytes && state.bufferedBytes <= limits.bufferedLowBytes ? 'resume' : 'none';
}
