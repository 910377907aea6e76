/**
 * A real HTTP receiver on loopback for webhook tests: verifies every request with the
 * `standardwebhooks` package's own `Webhook.verify` (not our signing code), can answer 500 or go
 * away (closed port) and come back on the same port, and dedupes what it accepted by event id.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { pollUntil } from './ports.js';

export interface ReceivedWebhook {
  readonly id: string;
  readonly type: string;
  readonly body: Record<string, unknown> & { readonly data: Record<string, unknown> };
  /** Whether `Webhook.verify` accepted the signature. */
  readonly verified: boolean;
  /** What the receiver answered. */
  readonly status: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly secret: string;
  /** Every request, in arrival order (failed ones included). */
  readonly requests: ReceivedWebhook[];
  /** Accepted events, first delivery of each id only, in the order they were accepted. */
  accepted(): ReceivedWebhook[];
  /** 'ok' answers 204; 'fail' answers 500 (after verifying). */
  mode: 'ok' | 'fail';
  /** Closes the port (connections refused) until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Resolves once `count` distinct events were accepted. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
}

const DEFAULT_WAIT_MS = 30_000;
const POLL_MS = 20;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const verifier = new Webhook(secret);
  const requests: ReceivedWebhook[] = [];
  let server: Server | null = null;
  let port = 0;
  const receiver: WebhookReceiver = {
    get url() {
      return `http://127.0.0.1:${port}/hooks`;
    },
    secret,
    requests,
    mode: 'ok',
    accepted() {
      const seen = new Set<string>();
      return requests.filter((r) => r.status < 300 && r.verified && !seen.has(r.id) && (seen.add(r.id), true));
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((done) => s.close(() => done()));
    },
    async start() {
      const s = createServer((req, res) => {
        void readBody(req).then((raw) => {
          let verified = true;
          try {
            verifier.verify(raw, {
              'webhook-id': String(req.headers['webhook-id']),
              'webhook-timestamp': String(req.headers['webhook-timestamp']),
              'webhook-signature': String(req.headers['webhook-signature']),
            });
          } catch {
            verified = false;
          }
          const body = JSON.parse(raw) as ReceivedWebhook['body'];
          const status = !verified ? 401 : receiver.mode === 'ok' ? 204 : 500;
          requests.push({ id: String(req.headers['webhook-id']), type: String(body['type']), body, verified, status });
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((done) => s.listen(port, '127.0.0.1', done));
      port = (s.address() as AddressInfo).port;
      server = s;
    },
    async waitForAccepted(count, timeoutMs = DEFAULT_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.accepted().length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${receiver.accepted().map((r) => r.type).join(', ')}`);
        await new Promise((done) => setTimeout(done, POLL_MS));
      }
      return receiver.accepted();
    },
  };
  await receiver.start();
  return receiver;
}

/**
 * Waits until no delivery is still to come from any node (`pending` of GET
 * /api/v1/webhook-deliveries is 0): from then on, what the receiver has is all it will get, so a
 * count of it proves no event was sent twice.
 */
export async function deliveriesSettled(gw: { readonly url: string; readonly controlToken: string }, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await pollUntil('webhook deliveries settled (none pending)', timeoutMs, async () => {
    const res = await fetch(new URL('/api/v1/webhook-deliveries?limit=1', gw.url), { headers: { authorization: `Bearer ${gw.controlToken}` } });
    if (res.status !== 200) throw new Error(`GET /api/v1/webhook-deliveries answered ${res.status}`);
    const { pending } = (await res.json()) as { pending?: unknown };
    if (typeof pending !== 'number') throw new Error(`no pending count in the answer (${String(pending)})`);
    return pending === 0;
  });
}
