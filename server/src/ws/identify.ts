/**
 * Runs the HTTP session middleware (express-session + passport) on a WebSocket upgrade request,
 * so upgrades see the same signed-in user as every other route.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { UserId } from '../../../shared/src/ids.js';

export async function identifyUpgrade(req: IncomingMessage, middleware: readonly RequestHandler[]): Promise<UserId | null> {
  // The middleware may set cookies; on an upgrade there is no response to carry them, so this one is discarded.
  const res = new ServerResponse(req);
  const expressReq = req as Request;
  for (const handler of middleware) {
    await new Promise<void>((resolve, reject) => {
      handler(expressReq, res as Response, (error?: unknown) => (error ? reject(error instanceof Error ? error : new Error('session middleware failed')) : resolve()));
    });
  }
  return expressReq.user?.id ?? null;
}
