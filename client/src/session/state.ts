/**
 * What a terminal or screen session is at any moment, and how it ended: the words both views, the
 * status bar and the embed channel share.
 */

/** Sent when the page itself ends the session (an embedding dashboard asked it to). */
export const CLOSED_BY_PAGE_REASON = 'Disconnected by the page.';

/**
 * `reconnecting`: the connection dropped and the page is taking the same session up again by
 * itself; not an end, so nothing is reported as disconnected until it gives up.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/**
 * Where a (re)connection is, as the page can tell: asking for a ticket, opening the WebSocket,
 * then, once the gateway has accepted it, waiting while the gateway logs in to the VM.
 */
export type ConnectStep = 'ticket' | 'gateway' | 'vm';

export type Disconnect =
  /** The ticket request failed, or the gateway's answer could not be used. */
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string; readonly final: boolean }
  /** The WebSocket closed; `opened` tells a lost session from one that never started. */
  | {
      readonly kind: 'closed';
      readonly code: number;
      readonly reason: string;
      readonly final: boolean;
      readonly opened: boolean;
      /**
       * Only the attachment ended (the network, the page or the gateway went: 1001, 1005, 1006),
       * not the session behind it, and the page itself did not give up on the stream.
       */
      readonly resumable: boolean;
      /** What the other end said went wrong, which usually explains the close better than its code. */
      readonly serverError: string | null;
      /** The stable code of that `error` (the terminal's), for pages that branch on it; null without one. */
      readonly serverErrorCode: string | null;
    };
