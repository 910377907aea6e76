/** Limits both sides agree on. Units are in the names. */

/** Control API bodies are small JSON documents; a private key is the largest field. */
export const CONTROL_BODY_LIMIT_BYTES = 64 * 1024;
/** Browser form and JSON bodies (login, ticket requests) are tiny. */
export const BROWSER_BODY_LIMIT_BYTES = 16 * 1024;
/** Access window countdown refresh; one second is what a human reads. */
export const COUNTDOWN_TICK_MS = 1000;
