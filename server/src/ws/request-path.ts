/** The path of an upgrade request without its query: what names the WebSocket endpoint. */
import type { IncomingMessage } from 'node:http';

export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
