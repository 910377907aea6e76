/**
 * What the protocol bridges need of the WebSocket transport: payloads as buffers, close reasons
 * cut to size, the close a socket error stands for, and closing with the reading stopped for a
 * browser that broke a rule. The transport (../ws/) implements the read gate.
 */
import type { RawData, WebSocket } from 'ws';
import { ABNORMAL_CLOSURE_CODE, CloseCode, NO_STATUS_CODE } from '../../../shared/src/protocol/close-codes.js';

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export const CLOSE_REASON_MAX_BYTES = 120;
/** Stops parsing and reading what a browser sends (../ws/read-slices.ts). */
export interface ReadGate {
  /** Discards everything the peer sends from now on, the rest of the current read included. */
  stop(): void;
}

/** Closes for a browser that broke a rule; see closeWebSocket. */
const CLIENT_FAULT_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.protocolError, CloseCode.invalidPayload, CloseCode.policyViolation, CloseCode.messageTooBig]);
/**
 * Time for a browser that broke a rule to read the close frame and answer before its socket is
 * dropped; one that answers (ends its side) is dropped at once. What it sends meanwhile is not
 * parsed, only read and dropped (../ws/read-slices.ts). A second, for a browser on a loaded machine.
 */
export const FAULT_CLOSE_LINGER_MS = 1_000;
/** 1015: the TLS handshake failed (RFC 6455 §7.4.1; reported, never sent). */
const TLS_HANDSHAKE_CODE = 1015;
/**
 * Codes a peer's close is reported with that no endpoint may send (ws throws on them). They reach
 * closeWebSocket when a watched screen ends with its owner's page (docs/protocol.md, 4b): its
 * watchers' pages are then closed with 1000, as the gateway files such a close.
 */
const UNSENDABLE_CLOSE_CODES: ReadonlySet<number> = new Set([NO_STATUS_CODE, ABNORMAL_CLOSURE_CODE, TLS_HANDSHAKE_CODE]);

export function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Sends the close frame. A browser that broke a rule is neither parsed nor read any more (the
 * rest of the read included, ../ws/read-slices.ts) and its socket is dropped shortly after: a client
 * dribbling frames would otherwise keep the gateway reading and parsing them until it sends a
 * close frame, which it need never do (ws waits 30 s).
 */
export function closeWebSocket(ws: WebSocket, readGate: ReadGate, code: number, reason: string): void {
  if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return;
  ws.close(UNSENDABLE_CLOSE_CODES.has(code) ? CloseCode.normal : code, closeReason(reason));
  if (!CLIENT_FAULT_CLOSE_CODES.has(code)) {
    // Paused for backpressure, the socket would never read the browser's close frame: the
    // handshake would hang until ws gives up after 30 s (and a drain would wait for it).
    ws.resume();
    return;
  }
  readGate.stop();
  const linger = setTimeout(() => ws.terminate(), FAULT_CLOSE_LINGER_MS);
  linger.unref();
  ws.once('close', () => clearTimeout(linger));
}

/** Cuts a close reason to what the protocol allows, without splitting a character. */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  return bytes.length <= CLOSE_REASON_MAX_BYTES ? reason : bytes.subarray(0, CLOSE_REASON_MAX_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
}

/**
 * The close a WebSocket error stands for. ws has already sent the matching close frame; the
 * session records the same code and a reason a person can act on, not "websocket error". null: the
 * error says nothing about the browser (see below) and the 'close' that follows tells the story.
 */
export function closeForSocketError(error: unknown): { readonly code: number; readonly reason: string } | null {
  switch ((error as { code?: unknown } | null)?.code) {
    // ws stops parsing after the browser's close frame by removing its socket listener, which the
    // sliced reads (../ws/read-slices.ts) stand in for; bytes after that frame reach a parser that
    // has finished. The browser closed first: that close is the one to record.
    case 'ERR_STREAM_WRITE_AFTER_END':
      return null;
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return { code: CloseCode.messageTooBig, reason: 'a message was larger than the gateway accepts' };
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return { code: CloseCode.policyViolation, reason: 'a message was split into too many frames' };
    case 'WS_ERR_INVALID_UTF8':
      return { code: CloseCode.invalidPayload, reason: 'a text message was not UTF-8' };
    default:
      return { code: CloseCode.protocolError, reason: 'websocket error' };
  }
}
