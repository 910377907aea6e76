/**
 * The client's address for upgrades, by the same rule Express applies to HTTP requests with
 * `trust proxy` set to one hop (app.ts): behind the trusted proxy, the address that proxy saw (the
 * last X-Forwarded-For entry, the one it appended); otherwise the socket's peer. Entries further
 * back are whatever the client wrote, so they are never used.
 */
import type { IncomingMessage } from 'node:http';

export function clientAddressOf(req: IncomingMessage, trustProxy: boolean): string | null {
  const peer = req.socket.remoteAddress ?? null;
  if (!trustProxy) return peer;
  return lastForwarded(req.headers['x-forwarded-for']) ?? peer;
}

/** The proxy's own entry: the last one of the last header line. */
export function lastForwarded(header: string | string[] | undefined): string | null {
  const line = Array.isArray(header) ? header.at(-1) : header;
  const last = line?.split(',').at(-1)?.trim();
  return last ? last : null;
}
