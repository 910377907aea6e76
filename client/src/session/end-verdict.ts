/**
 * What a connection's end means for the session behind it: only the attachment was lost (trying
 * again may take the session up), the gateway no longer has the session, or the end is final.
 */
import type { ErrorCode } from '../../../shared/src/errors.js';
import { NETWORK_ERROR_CODE } from '../lib/connection-ticket.js';
import type { Disconnect } from './state.js';

/** The gateway answers a resume ticket for a session it does not hold (unknown, ended, another user's). */
export const SESSION_NOT_FOUND_CODE: ErrorCode = 'session_not_found';
/** A 5xx (a 503 while the gateway drains, a proxy's 502) says nothing about the session: ask again. */
const SERVER_ERROR_MIN_STATUS = 500;

export type EndVerdict =
  /** The network or the gateway failed on the way: worth another try while the session is held. */
  | 'transient'
  /** The gateway does not hold the session (any more): a new one has to be started. */
  | 'gone'
  /** Anything else: the session ended, or a refusal asking again will not change. */
  | 'final';

export function classifyEnd(why: Disconnect): EndVerdict {
  if (why.kind === 'closed') return why.resumable ? 'transient' : 'final';
  if (why.code === SESSION_NOT_FOUND_CODE) return 'gone';
  if ((why.status === 0 && why.code === NETWORK_ERROR_CODE) || why.status >= SERVER_ERROR_MIN_STATUS) return 'transient';
  return 'final';
}
