/**
 * Structured JSON logs (pino). Every line written while an HTTP request or WebSocket upgrade is
 * being handled carries that request's `reqId`, found through AsyncLocalStorage, so code deep in a
 * route logs with the plain logger and still gets it.
 *
 * Redaction is by key name as a backstop; the first line of defence is that code never puts
 * secrets into log objects.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'privateKey',
  '*.privateKey',
  'secret',
  '*.secret',
  'ticket',
  '*.ticket',
  'token',
  '*.token',
  'cookie',
  '*.cookie',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  // Connection tickets travel in this header (docs/protocol.md).
  'req.headers["sec-websocket-protocol"]',
  'res.headers["set-cookie"]',
];

interface RequestContext {
  readonly reqId: string;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts) as part of the request `reqId`. */
export function withRequestId<T>(reqId: string, fn: () => T): T {
  return requestContext.run({ reqId }, fn);
}

/** The id of the request being handled, or null outside any request (timers, start-up). */
export function currentRequestId(): string | null {
  return requestContext.getStore()?.reqId ?? null;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'porthole' },
    // A logger already bound to a request (pino-http's, a connection's) has its own reqId.
    mixin: (_object, _level, logger) => {
      const context = requestContext.getStore();
      return context && !('reqId' in logger.bindings()) ? { reqId: context.reqId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
