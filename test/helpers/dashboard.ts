/**
 * A dashboard site for the embedding tests: serves the pages a test hands it, as a dashboard's
 * backend would render them, on a loopback origin of its own (localhost, where the gateway is
 * 127.0.0.1: another site). Its pages load the SDK from the gateway and log what arrives.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TestGateway } from './gateway.js';

export const EVENT_TYPES = ['porthole:ready', 'porthole:connected', 'porthole:window', 'porthole:closed'] as const;

export interface RecordedEvent {
  readonly type: (typeof EVENT_TYPES)[number];
  readonly target: string;
  readonly detail: Record<string, unknown>;
}

export interface DashboardWindow {
  portholeEvents: RecordedEvent[];
  rawMessages: { origin: string; data: unknown }[];
}

/** A dashboard site: serves the pages a test hands it, as a dashboard's backend would render them. */
export interface Dashboard {
  readonly origin: string;
  show(html: string): string;
  close(): Promise<void>;
}

export async function startDashboard(): Promise<Dashboard> {
  const pages = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    if (page === undefined) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(page);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  // Served on 127.0.0.1 but addressed as localhost: another site than the gateway's 127.0.0.1.
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    show(html) {
      const path = `/dash-${randomBytes(6).toString('hex')}`;
      pages.set(path, html);
      return `${origin}${path}`;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The dashboard's page: the SDK from the gateway, the given elements, and a log of what arrives. */
export function dashboardPage(gw: TestGateway, body: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>CI dashboard</title><link rel="icon" href="data:,">
<script>
window.portholeEvents = [];
window.rawMessages = [];
addEventListener('message', (e) => rawMessages.push({ origin: e.origin, data: e.data }));
for (const type of ${JSON.stringify(EVENT_TYPES)}) document.addEventListener(type, (e) => portholeEvents.push({ type, target: e.target.id, detail: e.detail }));
</script>
<script type="module" src="${gw.url}/sdk/porthole-embed.js"></script>
<style>porthole-terminal, porthole-screen, iframe { display: block; width: 960px; height: 600px; }</style>
</head><body>${body}</body></html>`;
}

/** An HTML attribute value, escaped. */
export const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
