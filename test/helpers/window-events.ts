/**
 * A client of a build's window events (`GET /api/v1/builds/{buildId}/window/events`), as a
 * browser's EventSource opens it: the session cookie, no other credential. Events are read as
 * they arrive; tests wait on them, never on time.
 */
import { request, type IncomingMessage } from 'node:http';
import type TestAgent from 'supertest/lib/agent.js';
import type { GatewayAddress } from './gateway.js';

/** Only bounds a wait that would otherwise hang; the events themselves arrive within a second. */
const EVENT_WAIT_MS = 5_000;

export interface WindowEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

export interface WindowEventsClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** A refusal's JSON body; null for a stream. */
  readonly body: Record<string, unknown> | null;
  /** Every event so far, in order. */
  readonly events: readonly WindowEvent[];
  /** Resolves with the first event (already received or still to come) that matches. */
  next(type: string, match?: (data: Record<string, unknown>) => boolean): Promise<WindowEvent>;
  /** Settles when the gateway ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** The session cookie a supertest agent holds for the gateway. */
export function cookieOfAgent(agent: TestAgent, gw: Pick<GatewayAddress, 'url'>): string {
  const { hostname } = new URL(gw.url);
  const jar = (agent as unknown as { jar: { getCookies(access: object): { toValueString(): string } } }).jar;
  return jar.getCookies({ domain: hostname, path: '/', secure: false, script: false }).toValueString();
}

export function openWindowEvents(gw: Pick<GatewayAddress, 'url'>, cookie: string, buildId: string): Promise<WindowEventsClient> {
  const url = new URL(`/api/v1/builds/${encodeURIComponent(buildId)}/window/events`, gw.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: 'text/event-stream', ...(cookie ? { Cookie: cookie } : {}) } }, (res) => {
      const events: WindowEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      const ended = new Promise<void>((done) => res.once('close', () => done()));
      res.setEncoding('utf8');
      const isStream = res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/event-stream');
      const client: WindowEventsClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: null,
        events,
        ended,
        next: (type, match = () => true) =>
          new Promise((found, fail) => {
            const look = (): boolean => {
              const hit = events.find((e) => e.event === type && match(e.data));
              if (!hit) return false;
              clearTimeout(timer);
              waiters.delete(check);
              found(hit);
              return true;
            };
            const check = (): void => void look();
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no ${type} event within ${EVENT_WAIT_MS} ms; got ${JSON.stringify(events)}`));
            }, EVENT_WAIT_MS);
            if (!look()) waiters.add(check);
          }),
        close: () => req.destroy(),
      };
      if (!isStream) {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve({ ...client, body: JSON.parse(text || 'null') as Record<string, unknown> | null }));
        return;
      }
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const lines = block.split('\n').filter((line) => !line.startsWith(':'));
          if (lines.length === 0) continue;
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
          for (const waiter of [...waiters]) waiter();
        }
      });
      res.on('error', () => undefined);
      resolve(client);
    });
    req.once('error', reject);
    req.end();
  });
}
