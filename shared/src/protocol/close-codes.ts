/**
 * WebSocket close codes of the terminal and screen connections (docs/protocol.md). Application
 * codes are in the 4000 range so browsers can tell them from transport failures.
 */
export const CloseCode = {
  /** 1000: the browser closed the connection normally. */
  normal: 1000,
  /** 1001: the gateway is shutting down; reconnecting later is fine. */
  goingAway: 1001,
  /** 1002: the peer broke the WebSocket protocol. */
  protocolError: 1002,
  /** 1007: a text frame was not valid UTF-8. */
  invalidPayload: 1007,
  /** 1008: a message broke the porthole protocol (bad control message, a message dribbled in too many frames). */
  policyViolation: 1008,
  /** 1009: a message was larger than the gateway accepts. */
  messageTooBig: 1009,
  /** 1011: something unexpected failed inside the gateway. */
  internalError: 1011,
  /** 4000: the build's access window closed. */
  windowClosed: 4000,
  /** 4001: access was revoked (role change, removal from the app, user deleted). */
  accessRevoked: 4001,
  /** 4002: no input for the idle timeout. */
  idleTimeout: 4002,
  /** 4003: the connection is not allowed (policy refused at the last moment). */
  forbidden: 4003,
  /** 4004: the VM could not be reached, refused the login, or presented the wrong host key. */
  vmUnreachable: 4004,
  /** 4005: the shell (or desktop session) on the VM ended. */
  sessionEnded: 4005,
  /** 4006: the browser stopped reading output for too long. */
  clientTooSlow: 4006,
  /** 4007: the session was resumed by another page (another tab or window of the same user). */
  resumedElsewhere: 4007,
  /** 4008: the session's owner removed this watcher from their session (issue #16). */
  removedByOwner: 4008,
} as const;

/** 1005: a close frame carried no code (RFC 6455 §7.1.5; reported, never sent). */
export const NO_STATUS_CODE = 1005;
/** 1006: the connection failed or dropped without a close frame, or missed its heartbeats (reported, never sent). */
export const ABNORMAL_CLOSURE_CODE = 1006;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Closes that end only the page's attachment, not the session behind it: the network went, the
 * page went, the gateway node restarts. A page holding a resumable session resumes after these by
 * itself; after any other code the session has ended (or moved to another page) for good.
 */
export const RESUMABLE_CLOSE_CODES: ReadonlySet<number> = new Set<number>([CloseCode.goingAway, NO_STATUS_CODE, ABNORMAL_CLOSURE_CODE]);

/** Codes after which reconnecting cannot help, so clients should not offer it automatically. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CloseCode.windowClosed,
  CloseCode.accessRevoked,
  CloseCode.forbidden,
  // Reconnecting would only put the watcher back where its owner just removed it from.
  CloseCode.removedByOwner,
]);

/** Human explanations, shown by the pages for each code. */
export const CLOSE_CODE_MESSAGES: Readonly<Record<number, string>> = {
  [CloseCode.normal]: 'Disconnected.',
  [CloseCode.goingAway]: 'The gateway restarted. Reconnect to continue.',
  [CloseCode.protocolError]: 'The connection broke a protocol rule and was closed.',
  [CloseCode.invalidPayload]: 'The browser sent text that was not UTF-8.',
  [CloseCode.policyViolation]: 'The browser sent a message the gateway does not accept.',
  [CloseCode.messageTooBig]: 'The browser sent a message that was too large.',
  [CloseCode.internalError]: 'Something went wrong in the gateway. Reconnect to try again.',
  [CloseCode.windowClosed]: 'The remote access window of this build has closed.',
  [CloseCode.accessRevoked]: 'Your access to this build was revoked.',
  [CloseCode.idleTimeout]: 'Disconnected after a period without input.',
  [CloseCode.forbidden]: 'You are not allowed to connect to this build.',
  [CloseCode.vmUnreachable]: 'The build VM could not be reached or refused the login.',
  [CloseCode.sessionEnded]: 'The shell on the build VM ended.',
  [CloseCode.clientTooSlow]: 'The browser stopped reading output, so the connection was closed.',
  [CloseCode.resumedElsewhere]: 'This session was opened in another tab or window.',
  [CloseCode.removedByOwner]: "The session's owner stopped you watching it.",
};

/** The reason (with 4000) when a user released the build's VM: "released by <name>" (issue #20). */
export const RELEASED_BY_PREFIX = 'released by ';

export function describeClose(code: number, reason: string): string {
  return CLOSE_CODE_MESSAGES[code] ?? (reason ? `Disconnected: ${reason}` : `Disconnected (code ${code}).`);
}
