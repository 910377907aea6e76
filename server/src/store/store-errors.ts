/**
 * Tells "the database is briefly out of reach" apart from bugs, so callers answer 503 with a
 * clear message (and the client retries) instead of a generic 500.
 */

/** SQLite result codes (and their extended forms, e.g. SQLITE_IOERR_READ) of a transient outage. */
const SQLITE_UNAVAILABLE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_READONLY'];
/** Socket errors and PostgreSQL's connection-exception (08) and operator-intervention (57P) classes. */
const NETWORK_UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return (
    SQLITE_UNAVAILABLE_PREFIXES.some((prefix) => code.startsWith(prefix)) ||
    NETWORK_UNAVAILABLE_CODES.has(code) ||
    /^08[0-9A-Z]{3}$/.test(code) ||
    /^57P0[1-4]$/.test(code)
  );
}
