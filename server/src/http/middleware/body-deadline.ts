/**
 * The whole-request deadline (REQUEST_TIMEOUT_MS) for every request but file uploads. Node's own
 * `requestTimeout` cannot spare one route, and an upload of a few GiB takes minutes (issue #17):
 * so the server leaves it off and this middleware cuts a request whose body has not arrived in
 * time, while uploads are held to an idle timeout instead (bytes must keep coming).
 */
import type { Request, RequestHandler } from 'express';

export function bodyDeadline(deadlineMs: number, exempt: (req: Request) => boolean): RequestHandler {
  return (req, _res, next) => {
    if (req.complete || exempt(req)) return next();
    const timer = setTimeout(() => {
      // As Node's requestTimeout does: the client was too slow to send its request.
      if (!req.complete) req.socket.destroy();
    }, deadlineMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    req.once('end', clear);
    req.once('close', clear);
    next();
  };
}
