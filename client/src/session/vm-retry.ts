/**
 * Whether a terminal that could not reach its VM tries again by itself. Only `vm_unreachable`
 * qualifies (a VM rebuilt with remote access is often still booting when its page opens); a
 * refused login, a changed host key or a refused shell would fail the same way again.
 */
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { Disconnect } from './state.js';

/** Between tries: long enough for a booting VM to get further, short enough that nobody gives up. */
export const VM_RETRY_DELAY_MS = 10_000;
/** A minute of tries covers an sshd coming up; after that the user decides (Reconnect). */
export const VM_RETRY_MAX_TRIES = 6;

export interface VmRetry {
  readonly inMs: number;
  /** What the banner says: the gateway's sentence and when the next try is. */
  readonly text: string;
}

/** `triesSoFar`: automatic tries since the page last had a shell (or the user pressed Reconnect). */
export function decideVmRetry(why: Disconnect, triesSoFar: number): VmRetry | null {
  if (why.kind !== 'closed' || why.code !== CloseCode.vmUnreachable || why.serverErrorCode !== 'vm_unreachable') return null;
  if (triesSoFar >= VM_RETRY_MAX_TRIES) return null;
  const sentence = (why.serverError ?? 'The build VM could not be reached.').replace(/\.$/, '');
  return { inMs: VM_RETRY_DELAY_MS, text: `${sentence} — retrying in ${VM_RETRY_DELAY_MS / 1000} s.` };
}
