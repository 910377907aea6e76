/**
 * Reads the gateway's text frames. Never throws: a message we do not understand (a newer gateway,
 * a proxy's noise) is ignored rather than taking the terminal down.
 */
import type { ClientControlMessage, ServerControlMessage } from '../../../shared/src/protocol/ssh-v1.js';

/** Our control messages are a few hundred characters; anything far larger is not one of ours. */
const SERVER_CONTROL_MAX_CHARS = 16 * 1024;

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
      const hostKey = message['hostKey'];
      return typeof hostKey === 'string' ? { type: 'ready', hostKey } : null;
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
