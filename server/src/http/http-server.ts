/**
 * The gateway's HTTP server with limits against handshake abuse: a client dribbling headers
 * (slowloris) or sending huge or countless headers is cut off instead of holding a socket.
 */
import { createServer, type Server } from 'node:http';

/** Browsers send a request's headers at once; 10 s covers a congested mobile link. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Bodies here are a few KiB of JSON; nothing legitimate takes longer to arrive. Enforced by
 * middleware/body-deadline.ts, which spares file uploads (they have an idle timeout instead).
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node checks the two timeouts above; its 30 s default would let a slow client linger. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Node's default total header size; an oversize head is answered 431 before any route runs. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Real browsers send about 20 headers; extras beyond this are dropped unread. */
export const MAX_HEADERS_COUNT = 100;

export interface HttpServerLimits {
  readonly headersTimeoutMs?: number;
}

export function createHttpServer(limits: HttpServerLimits = {}): Server {
  const headersTimeout = limits.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    // Off here: middleware/body-deadline.ts applies REQUEST_TIMEOUT_MS to every request but uploads.
    requestTimeout: 0,
    headersTimeout,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, headersTimeout),
  });
  server.maxHeadersCount = MAX_HEADERS_COUNT;
  return server;
}
