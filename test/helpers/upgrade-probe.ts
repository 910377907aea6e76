/**
 * Attempts one WebSocket upgrade and reports how it ended: the HTTP refusal (status and body) or
 * an open socket. Security tests use it to try upgrades a browser page would never make.
 */
import { WebSocket } from 'ws';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

export type UpgradeOutcome = { readonly opened: true; readonly ws: WebSocket } | { readonly opened: false; readonly status: number; readonly body: string };

export interface UpgradeAttempt {
  readonly url: string;
  readonly origin?: string;
  readonly protocols: readonly string[];
  readonly headers?: Record<string, string>;
}

export function attemptUpgrade(attempt: UpgradeAttempt): Promise<UpgradeOutcome> {
  const headers: Record<string, string> = { ...attempt.headers };
  if (attempt.origin !== undefined) headers['Origin'] = attempt.origin;
  const ws = new WebSocket(attempt.url, [...attempt.protocols], { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/** The subprotocol list the pages offer: the data protocol and the ticket. */
export function ticketProtocols(dataProtocol: string, ticket: string): string[] {
  return [dataProtocol, `${TICKET_SUBPROTOCOL_PREFIX}${ticket}`];
}
