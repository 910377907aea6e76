/**
 * Wire protocol `porthole.ssh.v1` between the terminal page and the gateway.
 *
 *  - Binary frames, both directions: raw terminal bytes (UTF-8 is not assumed; any byte passes).
 *  - Text frames: one JSON object each, a control message with a "type".
 *
 *  client → server                         server → client
 *  {"type":"resize","cols":N,"rows":N}     {"type":"ready","hostKey":"SHA256:…","sessionId":"…","resumeSeconds":N}
 *  {"type":"ack","bytes":N}                {"type":"resumed","offset":N}
 *  {"type":"resume","offset":N}            {"type":"window","closesAt":ISO-8601|null,"remainingMs":N|null}
 *                                          {"type":"error","code":"…","message":"…"}
 *                                          {"type":"notice","code":"…","message":"…"}
 *
 * The first resize may arrive before "ready": the gateway opens the PTY at that size. Acks grant
 * output credit: the gateway stops reading from the VM while too many bytes are unacknowledged.
 * The shell outlives the WebSocket for "resumeSeconds" (0: it does not). A page resumes it with a
 * ticket minted for the session id: its first message is "resume" with the number of output bytes
 * it received in the session; "resumed" names the offset the output that follows starts at (the
 * page's own, or the oldest the gateway still holds, at a line start).
 * An "error" explains the close that follows it; a "notice" tells the user something and the
 * session goes on (code "early_input_dropped": typing before "ready" outran what the gateway keeps).
 * See docs/protocol.md for the handshake, close codes and flow control.
 */
import { err, ok, type Result } from '../result.js';

export const SSH_SUBPROTOCOL = 'porthole.ssh.v1';

export const TERMINAL_COLS_MIN = 1;
export const TERMINAL_COLS_MAX = 1000;
export const TERMINAL_ROWS_MIN = 1;
export const TERMINAL_ROWS_MAX = 500;
/** Size used if the browser never says (a classic terminal). */
export const DEFAULT_TERMINAL_SIZE = { cols: 80, rows: 24 } as const;
/** Control messages are tiny; anything longer is not one of ours. */
export const CONTROL_MESSAGE_MAX_CHARS = 1024;

/** A page attached to a session drives it (its keys reach the shell) or watches it. */
export type AttachMode = 'drive' | 'watch';

/** Who is attached to a session, as every attached page is told. */
export interface Participant {
  readonly userId: string;
  readonly name: string;
  readonly mode: AttachMode;
  /** The user whose session it is (the one who opened it). */
  readonly owner: boolean;
  /** This entry is the page the list was sent to. */
  readonly you: boolean;
}

/** User ids in `control` are the gateway's ids: short printable strings. */
const USER_ID_MAX_CHARS = 256;

export type ClientControlMessage =
  | { readonly type: 'resize'; readonly cols: number; readonly rows: number }
  | { readonly type: 'ack'; readonly bytes: number }
  | { readonly type: 'resume'; readonly offset: number }
  | { readonly type: 'control'; readonly userId: string; readonly mode: AttachMode };

export type ServerControlMessage =
  | { readonly type: 'ready'; readonly hostKey: string; readonly sessionId: string; readonly resumeSeconds: number; readonly mode: AttachMode; readonly recorded: boolean }
  | { readonly type: 'size'; readonly cols: number; readonly rows: number }
  | { readonly type: 'participants'; readonly list: readonly Participant[] }
  | { readonly type: 'resumed'; readonly offset: number; readonly recorded: boolean }
  | { readonly type: 'window'; readonly closesAt: string | null; readonly remainingMs: number | null }
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | { readonly type: 'notice'; readonly code: string; readonly message: string };

export type ControlParseError = 'too_long' | 'not_json' | 'not_object' | 'unknown_type' | 'bad_field';

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/**
 * Parses a text frame from the browser. Never throws: hostile input (NaN, 1e9, strings,
 * `__proto__`, deep nesting) becomes an error value the bridge answers with a protocol error.
 */
export function parseClientControl(text: string): Result<ClientControlMessage, ControlParseError> {
  if (text.length > CONTROL_MESSAGE_MAX_CHARS) return err('too_long');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err('not_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return err('not_object');
  const message = value as Record<string, unknown>;
  switch (message['type']) {
    case 'resize': {
      const cols = message['cols'];
      const rows = message['rows'];
      if (!isFiniteInteger(cols) || !isFiniteInteger(rows)) return err('bad_field');
      return ok({
        type: 'resize',
        cols: clamp(cols, TERMINAL_COLS_MIN, TERMINAL_COLS_MAX),
        rows: clamp(rows, TERMINAL_ROWS_MIN, TERMINAL_ROWS_MAX),
      });
    }
    case 'ack': {
      const bytes = message['bytes'];
      if (!isFiniteInteger(bytes) || bytes < 0) return err('bad_field');
      return ok({ type: 'ack', bytes });
    }
    case 'resume': {
      const offset = message['offset'];
      if (!isFiniteInteger(offset) || offset < 0) return err('bad_field');
      return ok({ type: 'resume', offset });
    }
    case 'control': {
      const { userId, mode } = message;
      if (typeof userId !== 'string' || userId.length === 0 || userId.length > USER_ID_MAX_CHARS || !isAttachMode(mode)) return err('bad_field');
      return ok({ type: 'control', userId, mode });
    }
    default:
      return err('unknown_type');
  }
}

function isAttachMode(value: unknown): value is AttachMode {
  return value === 'drive' || value === 'watch';
}

function isFiniteInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** The gateway's control messages are a few hundred characters; anything far larger is not one of ours. */
const SERVER_CONTROL_MAX_CHARS = 16 * 1024;

/**
 * Parses a text frame from the gateway (the page's side). Never throws: a message it does not
 * understand (a newer gateway, a proxy's noise) is ignored rather than taking the terminal down.
 */
export function parseServerControl(text: string): ServerControlMessage | null {
  if (text.length > SERVER_CONTROL_MAX_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const message = value as Record<string, unknown>;
  switch (message['type']) {
    case 'ready': {
      const { hostKey, sessionId, resumeSeconds, mode } = message;
      if (typeof hostKey !== 'string' || typeof sessionId !== 'string' || !isFiniteInteger(resumeSeconds) || resumeSeconds < 0) return null;
      // A gateway from before pairing sends no mode: its pages drive; one from before issue #21 says nothing of recording.
      return { type: 'ready', hostKey, sessionId, resumeSeconds, mode: isAttachMode(mode) ? mode : 'drive', recorded: message['recorded'] === true };
    }
    case 'size': {
      const { cols, rows } = message;
      if (!isFiniteInteger(cols) || !isFiniteInteger(rows)) return null;
      return { type: 'size', cols: clamp(cols, TERMINAL_COLS_MIN, TERMINAL_COLS_MAX), rows: clamp(rows, TERMINAL_ROWS_MIN, TERMINAL_ROWS_MAX) };
    }
    case 'participants': {
      const list = message['list'];
      if (!Array.isArray(list)) return null;
      const participants: Participant[] = [];
      for (const entry of list as unknown[]) {
        if (typeof entry !== 'object' || entry === null) return null;
        const { userId, name, mode, owner, you } = entry as Record<string, unknown>;
        if (typeof userId !== 'string' || typeof name !== 'string' || !isAttachMode(mode) || typeof owner !== 'boolean' || typeof you !== 'boolean') return null;
        participants.push({ userId, name, mode, owner, you });
      }
      return { type: 'participants', list: participants };
    }
    case 'resumed': {
      const offset = message['offset'];
      return isFiniteInteger(offset) && offset >= 0 ? { type: 'resumed', offset, recorded: message['recorded'] === true } : null;
    }
    case 'window': {
      const closesAt = message['closesAt'];
      const remainingMs = message['remainingMs'];
      if (closesAt !== null && typeof closesAt !== 'string') return null;
      if (remainingMs !== null && !(typeof remainingMs === 'number' && Number.isFinite(remainingMs))) return null;
      return { type: 'window', closesAt, remainingMs: remainingMs === null ? null : Math.max(0, remainingMs) };
    }
    case 'error':
    case 'notice': {
      const code = message['code'];
      const description = message['message'];
      return typeof code === 'string' && typeof description === 'string' ? { type: message['type'], code, message: description } : null;
    }
    default:
      return null;
  }
}

export function encodeClientControl(message: ClientControlMessage): string {
  return JSON.stringify(message);
}
