/**
 * Request ids and the access log (pino-http). Each request gets an id — the proxy's X-Request-Id
 * when the proxy is trusted and the value is sane, otherwise a new UUID — echoed in the
 * X-Request-Id response header and put on every log line written while handling it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { withRequestId, type Logger } from '../../log.js';
import type { UpgradeHandler } from '../../ws/upgrade.js';

/** What a proxy's id may look like: enough for UUIDs and trace ids, nothing that could forge a log line. */
const FORWARDED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes arrive every few seconds; their access lines would drown everything else. */
const QUIET_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

function requestIdOf(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers['x-request-id'];
  if (trustProxy && typeof forwarded === 'string' && FORWARDED_REQUEST_ID.test(forwarded)) return forwarded;
  return randomUUID();
}

export function requestLogging(logger: Logger, trustProxy: boolean): RequestHandler[] {
  const accessLog = pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req, res) => {
      const id = requestIdOf(req, trustProxy);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
    // What an access line needs; headers stay out (cookies and tokens are redacted anyway).
    serializers: {
      req: (req: { method: string; url: string; remoteAddress: string }) => ({ method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
  const context: RequestHandler = (req, _res, next) => withRequestId(typeof req.id === 'string' ? req.id : requestIdOf(req, false), next);
  return [accessLog, context];
}

/** The same for WebSocket upgrades, which bypass Express. */
export function upgradeWithRequestId(handle: UpgradeHandler, trustProxy: boolean): UpgradeHandler {
  return (req, socket, head) => withRequestId(requestIdOf(req, trustProxy), () => handle(req, socket, head));
}
