/** Small helpers for WebSocket payloads shared by the protocol bridges. */
import type { RawData } from 'ws';

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
const CLOSE_REASON_MAX_BYTES = 120;

export function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Cuts a close reason to what the protocol allows, without splitting a character. */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  return bytes.length <= CLOSE_REASON_MAX_BYTES ? reason : bytes.subarray(0, CLOSE_REASON_MAX_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
}
