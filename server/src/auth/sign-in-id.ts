/**
 * A sign-in session's public name: a digest of its session id. Tickets, live connections and
 * cross-node notifications name the session that opened them by it, so sign-out can end exactly
 * that browser's connections, and the raw session id (the cookie's secret) never leaves the store.
 */
import { createHash } from 'node:crypto';

export function signInIdOf(sessionId: string): string {
  return createHash('sha256').update(`porthole-sign-in:${sessionId}`).digest('base64url');
}
