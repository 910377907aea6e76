/** Reading a gateway the way its operators do: the audit API and the Prometheus endpoint. */
import request from 'supertest';
import type { AuditEventView, AuditPageView } from '../../shared/src/api.js';
import type { GatewayAddress } from './gateway.js';
import { pollUntil } from './ports.js';

/** Audit rows are written as events happen; this bounds waiting for one after its trigger. */
export const AUDIT_WAIT_MS = 10_000;

export async function auditEvents(gw: GatewayAddress, query: Record<string, string | number> = {}): Promise<readonly AuditEventView[]> {
  const res = await request(gw.url).get('/api/v1/audit').query(query).set('Authorization', `Bearer ${gw.controlToken}`);
  if (res.status !== 200) throw new Error(`audit query failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as AuditPageView).events;
}

/** Polls the audit API until a row matches; returns it. */
export async function waitForAudit(gw: GatewayAddress, match: (event: AuditEventView) => boolean, query: Record<string, string | number> = {}): Promise<AuditEventView> {
  let found: AuditEventView | undefined;
  await pollUntil('audit row', AUDIT_WAIT_MS, async () => {
    found = (await auditEvents(gw, { limit: 1000, ...query })).find(match);
    return found !== undefined;
  });
  if (!found) throw new Error('unreachable: pollUntil returned without a row');
  return found;
}

export async function scrapeMetrics(gw: GatewayAddress, token: string = gw.controlToken): Promise<string> {
  const res = await request(gw.url).get('/metrics').set('Authorization', `Bearer ${token}`);
  if (res.status !== 200) throw new Error(`scrape failed: ${res.status} ${res.text}`);
  return res.text;
}

/** The value of one series in Prometheus text format, 0 when absent. Labels must match exactly. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '').split(',').filter((p) => p.length > 0).sort().join(',');
    if (got === wanted) return Number(match[3]);
  }
  return 0;
}
