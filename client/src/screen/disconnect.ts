/**
 * How an ended screen session is told: session/disconnect.ts's wording and classification, with the
 * screen's own where the VNC handshake knows better or that one says "shell".
 */
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import { describeDisconnect, type DisconnectNotice } from '../session/disconnect.js';
import type { Disconnect } from '../session/state.js';

/** close-codes.ts words 4005 for the terminal ("the shell ended"). */
const SESSION_ENDED = 'The screen session on the build VM ended.';

export function describeScreenDisconnect(why: Disconnect): DisconnectNotice {
  if (why.kind === 'closed' && why.serverError) return { kind: 'error', text: why.serverError, signIn: false, reconnect: !why.final };
  const notice = describeDisconnect(why, 'screen');
  return why.kind === 'closed' && why.code === CloseCode.sessionEnded ? { ...notice, text: SESSION_ENDED } : notice;
}
