/**
 * Who ended a connection, and what the audit trail and metrics file it under. The gateway's close
 * codes and reasons are its own; a browser's close frame carries whatever code and reason the page
 * (or anyone with a ticket and a WebSocket library) chose, e.g. 4000 "access window closed". So a
 * browser's close is filed under one of the few codes every browser close means the same by, its
 * own code is kept apart as a number, and its reason is not kept at all.
 */
import { ABNORMAL_CLOSURE_CODE, CloseCode, NO_STATUS_CODE } from '../../../shared/src/protocol/close-codes.js';

export type ClosedBy = 'browser' | 'gateway';

/** The codes a browser's close keeps as they are; any other code it sends is filed as 1000. */
const BROWSER_FILING_CODES: ReadonlySet<number> = new Set<number>([CloseCode.normal, CloseCode.goingAway, NO_STATUS_CODE, ABNORMAL_CLOSURE_CODE]);

/** The reason recorded for every browser close, in place of the browser's own text. */
export const BROWSER_CLOSE_REASON = 'closed by the browser';

export interface FiledClose {
  readonly closedBy: ClosedBy;
  readonly closeCode: number;
  readonly reason: string;
  /** The code exactly as the browser sent it (ws allows only valid codes); null when the gateway closed. */
  readonly browserCloseCode: number | null;
}

export function fileClose(closedBy: ClosedBy, code: number, reason: string): FiledClose {
  if (closedBy === 'gateway') return { closedBy, closeCode: code, reason, browserCloseCode: null };
  return {
    closedBy,
    closeCode: BROWSER_FILING_CODES.has(code) ? code : CloseCode.normal,
    reason: BROWSER_CLOSE_REASON,
    browserCloseCode: code,
  };
}
