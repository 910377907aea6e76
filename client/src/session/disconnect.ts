/**
 * How an ended session is told to the user: the banner's wording and weight, and whether signing
 * in again or Reconnect can help.
 */
import { CloseCode, describeClose } from '../../../shared/src/protocol/close-codes.js';
import { SESSION_NOT_FOUND_CODE } from './end-verdict.js';
import { ABNORMAL_CLOSURE_CODE } from '../../../shared/src/protocol/close-codes.js';
import type { Disconnect } from './state.js';
import type { BannerKind } from './status-bar.js';

/** Close codes that end a session the ordinary way, shown as information rather than an error. */
const ORDINARY_END_CODES: ReadonlySet<number> = new Set([CloseCode.normal, CloseCode.goingAway, CloseCode.idleTimeout, CloseCode.sessionEnded, CloseCode.removedByOwner]);

export interface DisconnectNotice {
  readonly kind: BannerKind;
  readonly text: string;
  readonly signIn: boolean;
  readonly reconnect: boolean;
}

/** `noun` names the connection in the words for one that never opened ("terminal"). */
export function describeDisconnect(why: Disconnect, noun: string): DisconnectNotice {
  switch (why.kind) {
    case 'refused':
      return {
        // A held session that ended while the page was away is an ordinary end, like a shell that exited.
        kind: why.code === SESSION_NOT_FOUND_CODE ? 'info' : 'error',
        text: why.message,
        signIn: why.status === 401 || why.code === 'unauthenticated',
        reconnect: !why.final,
      };
    case 'closed': {
      let text: string;
      if (why.code === ABNORMAL_CLOSURE_CODE) {
        text = why.opened
          ? 'The connection to the gateway was lost.'
          : `Could not open the ${noun} connection. The gateway may be unreachable or the ticket may have expired.`;
      } else {
        text = describeClose(why.code, why.reason);
      }
      // The gateway's own sentence is the specific one: shown alone, not after the code's generic text.
      if (why.serverError) text = why.serverError;
      return { kind: ORDINARY_END_CODES.has(why.code) ? 'info' : 'error', text, signIn: false, reconnect: !why.final };
    }
  }
}

/** The gateway is the authority on the window; a countdown still running after it said so would lie. */
export function windowHasClosed(why: Disconnect): boolean {
  return why.kind === 'closed' ? why.code === CloseCode.windowClosed : why.code === 'window_closed';
}
