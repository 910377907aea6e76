/**
 * A WebSocket terminal client that behaves like the browser page: it mints a ticket with the
 * session cookie, connects with the ticket subprotocol, sends the first resize, and acknowledges
 * output as it arrives.
 */
import { WebSocket } from 'ws';
import type TestAgent from 'supertest/lib/agent.js';
import { SSH_SUBPROTOCOL, type ServerControlMessage } from '../../shared/src/protocol/ssh-v1.js';
import type { GatewayAddress } from './gateway.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';

/** Bounds every wait in terminal tests; waits are on conditions, never on time. */
export const TERMINAL_WAIT_MS = 15_000;

export interface Ticket {
  readonly ticket: string;
  readonly url: string;
  readonly protocol: string;
  readonly expiresAt: string;
}

/** `sessionId`: a ticket to resume that held session (docs/protocol.md, "Resuming"). */
export async function mintTicket(gw: GatewayAddress, agent: TestAgent, buildId: string, kind: 'ssh' | 'vnc' = 'ssh', sessionId?: string): Promise<Ticket> {
  const res = await agent.post(`/api/v1/builds/${buildId}/connections`).set('Origin', gw.origin).send({ kind, ...(sessionId === undefined ? {} : { sessionId }) });
  if (res.status !== 201) throw new Error(`ticket refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Ticket;
}

/** A ticket to watch another member's live session (docs/protocol.md, "Pairing"). */
export async function mintWatchTicket(gw: GatewayAddress, agent: TestAgent, buildId: string, sessionId: string, kind: 'ssh' | 'vnc' = 'ssh'): Promise<Ticket> {
  const res = await agent.post(`/api/v1/builds/${buildId}/connections`).set('Origin', gw.origin).send({ kind, sessionId, mode: 'watch' });
  if (res.status !== 201) throw new Error(`watch ticket refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Ticket;
}

export interface TerminalClient {
  readonly ws: WebSocket;
  readonly controls: ServerControlMessage[];
  /** Everything received so far, as latin1 text (byte-preserving). */
  output(): string;
  outputBytes(): Buffer;
  type(text: string | Buffer): void;
  resize(cols: number, rows: number): void;
  waitForOutput(pattern: RegExp, from?: number): Promise<RegExpExecArray>;
  waitForControl(type: ServerControlMessage['type']): Promise<ServerControlMessage>;
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export interface ConnectOptions {
  readonly origin?: string;
  readonly size?: { cols: number; rows: number };
  readonly headers?: Record<string, string>;
  /** When false, output is never acknowledged (a browser that stopped rendering). */
  readonly ack?: boolean;
  /** A resume ticket: the first message says this many output bytes were received, then the size. */
  readonly resumeFrom?: number;
  /** Connect through this address instead (a relay whose network can be cut); the URL's path stays. */
  readonly via?: { readonly host: string; readonly port: number };
}

export function connectTerminal(ticket: Ticket, gw: GatewayAddress, options: ConnectOptions = {}): Promise<TerminalClient> {
  const url = new URL(ticket.url);
  if (options.via) {
    url.hostname = options.via.host;
    url.port = String(options.via.port);
  }
  const ws = new WebSocket(url.href, [ticket.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${ticket.ticket}`], {
    headers: { Origin: options.origin ?? gw.origin, ...options.headers },
  });
  const chunks: Buffer[] = [];
  const controls: ServerControlMessage[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8') });
      notify();
    });
  });
  ws.on('message', (data, isBinary) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    if (isBinary) {
      chunks.push(buffer);
      if (options.ack !== false && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: buffer.length }));
    } else {
      controls.push(JSON.parse(buffer.toString('utf8')) as ServerControlMessage);
    }
    notify();
  });
  const waitFor = <T>(check: () => T | null, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        const found = check();
        if (found !== null) {
          cleanup();
          resolve(found);
        } else if (ws.readyState === ws.CLOSED) {
          cleanup();
          reject(new Error(`connection closed while waiting for ${what}; output so far: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(-500))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; output so far: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(-500))}`));
      }, TERMINAL_WAIT_MS);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(attempt);
      };
      waiters.add(attempt);
      attempt();
    });

  const client: TerminalClient = {
    ws,
    controls,
    output: () => Buffer.concat(chunks).toString('latin1'),
    outputBytes: () => Buffer.concat(chunks),
    type: (text) => ws.send(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, { binary: true }),
    resize: (cols, rows) => ws.send(JSON.stringify({ type: 'resize', cols, rows })),
    waitForOutput: (pattern, from = 0) =>
      waitFor(() => pattern.exec(Buffer.concat(chunks).toString('latin1').slice(from)), `output ${String(pattern)}`),
    waitForControl: (type) => waitFor(() => controls.find((c) => c.type === type) ?? null, `control message ${type}`),
    closed,
    // As the page's Disconnect does: 1000 ends the session (a bare close, 1005, would only detach it).
    close: () => ws.close(1000, 'closed by the page'),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      if (options.resumeFrom !== undefined) ws.send(JSON.stringify({ type: 'resume', offset: options.resumeFrom }));
      const size = options.size ?? { cols: 120, rows: 40 };
      client.resize(size.cols, size.rows);
      resolve(client);
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
    });
    ws.once('error', (error) => reject(error));
  });
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}: ${body}`);
  }
}

export { SSH_SUBPROTOCOL };
