/**
 * pg reports some outages as plain Errors without a code (a pool that cannot connect in time, a
 * connection cut mid-query). Those get a network code here, so ../store-errors.ts recognises
 * them as "the database is out of reach" (503) rather than bugs (500).
 */
const OUTAGE_MESSAGES: readonly [RegExp, string][] = [
  [/timeout exceeded when trying to connect|connection timeout|Query read timeout/i, 'ETIMEDOUT'],
  [/Connection terminated|connection error and is not queryable|not queryable/i, 'ECONNRESET'],
];

export function asStoreError(error: unknown): unknown {
  if (!(error instanceof Error) || typeof (error as { code?: unknown }).code === 'string') return error;
  for (const [pattern, code] of OUTAGE_MESSAGES) {
    if (pattern.test(error.message)) return Object.assign(new Error(error.message, { cause: error }), { code });
  }
  return error;
}
