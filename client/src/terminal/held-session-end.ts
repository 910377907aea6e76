/**
 * What becomes of the shell a terminal page holds when its connection is over for good (or could
 * not be taken up again): kept for Reconnect, forgotten, or replaced by a new one at once.
 */
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { Disconnect } from '../session/state.js';
import type { SessionEnd } from '../session/ticketed-session.js';

/** Shown instead of the gateway's "not found" when a session this page held could not be taken up again. */
export const SESSION_GONE_TEXT = 'The session ended while you were away.';

export type HeldSessionEnd =
  /** A reload's session that has ended since: a new shell, exactly as a first visit would get, without a word. */
  | { readonly kind: 'start-new' }
  /** Tell the page `why`; `keep`: Reconnect takes the same shell up again, else it starts a new one. */
  | { readonly kind: 'report'; readonly why: Disconnect; readonly keep: boolean };

/** `fromMemory`: the held shell came from an earlier page in this tab and was not taken up yet. */
export function heldSessionEnd(why: Disconnect, end: SessionEnd, fromMemory: boolean): HeldSessionEnd {
  if (end === 'gone') {
    if (fromMemory) return { kind: 'start-new' };
    return { kind: 'report', why: why.kind === 'refused' ? { ...why, message: SESSION_GONE_TEXT, final: false } : why, keep: false };
  }
  return { kind: 'report', why, keep: keepsSession(why, end) };
}

/**
 * The shell stays held when another tab took it (4007: taking it back by itself would only take
 * it back and forth), or when a refusal may pass (a full connection cap, a sign-in to renew).
 * Every other end ended the shell, or its hold ran out.
 */
function keepsSession(why: Disconnect, end: SessionEnd): boolean {
  if (end !== 'final') return false;
  return why.kind === 'closed' ? why.code === CloseCode.resumedElsewhere : !why.final;
}
