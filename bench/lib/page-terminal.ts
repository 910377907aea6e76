/**
 * A terminal page as the resume case needs it: tickets minted over the page's own network (a
 * fresh TCP connection, as after an outage), the WebSocket opened with the ticket, "resume" first
 * when resuming, then the size; every output frame acknowledged at once; the moments that matter
 * stamped with performance.now() as they happen.
 */
import http from 'node:http';
import { WebSocket } from 'ws';
import { parseServerControl, type ServerControlMessage } from '../../shared/src/protocol/ssh-v1.js';
import { TICKET_SUBPROTOCOL_PREFIX } from '../../shared/src/protocol/kinds.js';
import type { BenchGateway, Ticket } from './gateway-process.js';
import { withDeadline } from './deadline.js';

/** Every wait of the page is on a condition; this only keeps a broken run from hanging. */
const PAGE_WAIT_MS = 30_000;

export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * POST /api/v1/builds/{id}/connections as the page does it (its cookie, its Origin), on a new
 * connection to `via` (the page's network), closed after the answer.
 */
export async function mintTicketVia(
  gateway: BenchGateway,
  via: Address,
  buildId: string,
  body: { kind: 'ssh'; sessionId?: string; mode?: 'watch' },
  cookie: string = gateway.cookie,
): Promise<Ticket> {
  const payload = JSON.stringify(body);
  const { status, text } = await withDeadline('ticket', PAGE_WAIT_MS, () =>
    new Promise<{ status: number; text: string }>((done, fail) => {
      const req = http.request(
        {
          host: via.host,
          port: via.port,
          method: 'POST',
          path: `/api/v1/builds/${buildId}/connections`,
          agent: false,
          headers: { Origin: gateway.origin, Cookie: cookie, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Connection: 'close' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done({ status: res.statusCode ?? 0, text }));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(payload);
    }),
  );
  if (status !== 201) throw new Error(`ticket refused: ${status} ${text}`);
  return JSON.parse(text) as Ticket;
}

export interface PageTerminalOptions {
  /** Connect through this address (the page's network) instead of the ticket's host. */
  readonly via?: Address;
  /** Resume: the first message says this many output bytes were received in the session. */
  readonly resumeFrom?: number;
  readonly size?: { cols: number; rows: number };
  /** Keep the output (false: only count it, for floods). */
  readonly keep?: boolean;
  /** Acknowledge output (false: a page that renders nothing, e.g. a stalled watcher). */
  readonly ack?: boolean;
}

export interface Moments {
  open: number;
  ready?: number;
  resumed?: number;
  firstOutput?: number;
}

export interface PageTerminal {
  readonly ws: WebSocket;
  readonly controls: ServerControlMessage[];
  /** When the WebSocket opened, "ready" or "resumed" came, and the first output byte came. */
  readonly at: Moments;
  /** Output bytes received on this socket. */
  received(): number;
  /** The output kept so far (empty when not kept). */
  output(): Buffer;
  /** Stops keeping output (it is still counted). */
  stopKeeping(): void;
  /** Keeps output again, from now on (after a flood, to see what follows it). */
  startKeeping(): void;
  /** Stops reading the socket altogether, as a frozen tab does: TCP backs up to the gateway. */
  stopReading(): void;
  type(text: string): void;
  /** Resolves when `check` holds after some message (or now); rejects if the socket closes first. */
  waitFor<T>(what: string, check: () => T | null | undefined): Promise<T>;
  readonly closed: Promise<number>;
  /** As the page's Disconnect does: 1000 ends the session. */
  close(): Promise<number>;
}

export async function openPageTerminal(ticket: Ticket, origin: string, options: PageTerminalOptions = {}): Promise<PageTerminal> {
  const url = new URL(ticket.url);
  if (options.via) {
    url.hostname = options.via.host;
    url.port = String(options.via.port);
  }
  const ws = new WebSocket(url.href, [ticket.protocol, `${TICKET_SUBPROTOCOL_PREFIX}${ticket.ticket}`], { headers: { Origin: origin }, perMessageDeflate: false });
  const chunks: Buffer[] = [];
  let keep = options.keep !== false;
  let received = 0;
  const controls: ServerControlMessage[] = [];
  const at: Moments = { open: NaN };
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  let closeCode: number | null = null;
  const closed = new Promise<number>((done) => {
    ws.once('close', (code) => {
      closeCode = code;
      done(code);
      notify();
    });
  });
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      at.firstOutput ??= performance.now();
      received += data.length;
      if (keep) chunks.push(data);
      if (options.ack !== false && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'ack', bytes: data.length }));
    } else {
      const message = parseServerControl(data.toString('utf8'));
      if (message) {
        controls.push(message);
        if (message.type === 'ready') at.ready ??= performance.now();
        if (message.type === 'resumed') at.resumed ??= performance.now();
      }
    }
    notify();
  });
  await withDeadline(
    'page WebSocket open',
    PAGE_WAIT_MS,
    () =>
      new Promise<void>((done, fail) => {
        ws.once('open', () => {
          at.open = performance.now();
          if (options.resumeFrom !== undefined) ws.send(JSON.stringify({ type: 'resume', offset: options.resumeFrom }));
          const size = options.size ?? { cols: 120, rows: 40 };
          ws.send(JSON.stringify({ type: 'resize', ...size }));
          done();
        });
        ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
        ws.once('error', fail);
      }),
    () => ws.terminate(),
  );

  const page: PageTerminal = {
    ws,
    controls,
    at,
    received: () => received,
    output: () => Buffer.concat(chunks),
    stopKeeping: () => {
      keep = false;
      chunks.length = 0;
    },
    startKeeping: () => {
      keep = true;
    },
    stopReading: () => ws.pause(),
    type: (text) => ws.send(Buffer.from(text, 'latin1'), { binary: true }),
    waitFor: <T>(what: string, check: () => T | null | undefined) =>
      withDeadline(`page waiting for ${what}`, PAGE_WAIT_MS, () =>
        new Promise<T>((done, fail) => {
          const attempt = (): void => {
            const error = controls.find((c) => c.type === 'error');
            const found = check();
            if (found !== null && found !== undefined) {
              waiters.delete(attempt);
              done(found);
            } else if (error?.type === 'error' || closeCode !== null) {
              waiters.delete(attempt);
              fail(new Error(`terminal ended while waiting for ${what}: ${closeCode ?? ''} ${error?.type === 'error' ? error.message : ''}`));
            }
          };
          waiters.add(attempt);
          attempt();
        }),
        () => ws.terminate(),
      ),
    closed,
    close: async () => {
      ws.close(1000, 'closed by the page');
      return await withDeadline('page close', PAGE_WAIT_MS, () => closed, () => ws.terminate());
    },
  };
  return page;
}
