/** The audit trail's row mapping and failure handling, close attribution, and the metrics' bounded labels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AuditTrail } from '../../server/src/audit/audit-trail.js';
import type { GatewayEvent } from '../../server/src/audit/events.js';
import { GatewayMetrics } from '../../server/src/metrics/metrics.js';
import { createLogger } from '../../server/src/log.js';
import { SqliteStore } from '../../server/src/store/sqlite/sqlite-store.js';
import type { Store } from '../../server/src/store/store.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';
import { metricValue } from '../helpers/ops.js';
import { BROWSER_CLOSE_REASON, fileClose } from '../../server/src/protocols/close-attribution.js';

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw += chunk.toString('utf8');
      callback();
    },
  });
  return { logger: createLogger('info', sink), lines: () => raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const closed: Extract<GatewayEvent, { type: 'connection_closed' }> = {
  type: 'connection_closed',
  connectionId: 'c-1',
  userId: 'u-1' as UserId,
  buildId: 'b-1' as BuildId,
  kind: 'ssh',
  closedBy: 'gateway',
  closeCode: 4005,
  reason: 'shell ended',
  browserCloseCode: null,
  bytesToBrowser: 10,
  bytesFromBrowser: 2,
  pauses: 0,
  durationMs: 1234,
};

test('audit trail: one log line and one row per event, user and build as columns, the rest as details', async () => {
  const store = SqliteStore.open(':memory:');
  const { logger, lines } = capture();
  const at = new Date('2026-11-27T10:00:00.000Z');
  const trail = new AuditTrail({ store, logger, now: () => at });
  const seen: GatewayEvent[] = [];
  trail.subscribe((e) => seen.push(e));
  trail.record(closed);
  trail.record({ type: 'host_key_mismatch', buildId: 'b-1' as BuildId, expected: 'SHA256:a', presented: 'SHA256:b' });
  await trail.flush();
  const rows = await store.listAudit({ limit: 10 });
  assert.deepEqual(rows.map((r) => ({ ...r, id: 0 })), [
    { id: 0, at, event: 'host_key_mismatch', userId: null, buildId: 'b-1', details: { expected: 'SHA256:a', presented: 'SHA256:b' } },
    {
      id: 0,
      at,
      event: 'connection_closed',
      userId: 'u-1',
      buildId: 'b-1',
      details: {
        connectionId: 'c-1',
        kind: 'ssh',
        closedBy: 'gateway',
        closeCode: 4005,
        reason: 'shell ended',
        browserCloseCode: null,
        bytesToBrowser: 10,
        bytesFromBrowser: 2,
        pauses: 0,
        durationMs: 1234,
      },
    },
  ]);
  assert.deepEqual(lines().map((l) => [l['level'], l['event'], l['msg']]), [
    [30, 'connection_closed', 'connection closed'],
    [40, 'host_key_mismatch', 'VM presented an unexpected host key'],
  ]);
  assert.equal(seen.length, 2);
  await store.close();
});

test('audit trail: a failing database is logged and counted, never thrown at the caller', async () => {
  const { logger, lines } = capture();
  const broken = { appendAudit: () => Promise.reject(new Error('disk I/O error')) } as unknown as Store;
  const trail = new AuditTrail({ store: broken, logger, now: () => new Date() });
  trail.record(closed);
  await trail.flush();
  assert.equal(trail.droppedRows, 1);
  assert.ok(lines().some((l) => l['event'] === 'audit_write_failed' && l['level'] === 50));
});

test('metrics: an unlisted close code is counted as "other", not as a new series', async () => {
  const metrics = new GatewayMetrics();
  metrics.observe({ type: 'connection_opened', connectionId: 'c', userId: 'u' as UserId, buildId: 'b' as BuildId, kind: 'vnc', viewOnly: false, recorded: false });
  metrics.observe({ ...closed, kind: 'vnc', closeCode: 3999 });
  const text = await metrics.render();
  assert.equal(metricValue(text, 'porthole_connections_closed_total', { kind: 'vnc', code: 'other', closed_by: 'gateway' }), 1);
  // Not a bare '3999': the process metrics' numbers (memory, CPU seconds) can contain those digits.
  assert.doesNotMatch(text, /code="3999"/);
  assert.equal(metricValue(text, 'porthole_connections_live', { kind: 'vnc' }), 0);
});

test('close attribution: the gateway keeps its code and reason; a browser is filed under 1000/1001/1005/1006 without its reason', () => {
  assert.deepEqual(fileClose('gateway', 4000, 'access window closed'), { closedBy: 'gateway', closeCode: 4000, reason: 'access window closed', browserCloseCode: null });
  for (const code of [1000, 1001, 1005, 1006]) {
    assert.deepEqual(fileClose('browser', code, 'bye'), { closedBy: 'browser', closeCode: code, reason: BROWSER_CLOSE_REASON, browserCloseCode: code });
  }
  for (const code of [1002, 1008, 3000, 4000, 4001, 4006, 4999]) {
    assert.deepEqual(fileClose('browser', code, 'access window closed'), { closedBy: 'browser', closeCode: 1000, reason: BROWSER_CLOSE_REASON, browserCloseCode: code });
  }
});

test('metrics: a browser close posing as 4000 is counted as the browser\'s 1000', async () => {
  const metrics = new GatewayMetrics();
  metrics.observe({ type: 'connection_opened', connectionId: 'c', userId: 'u' as UserId, buildId: 'b' as BuildId, kind: 'ssh', viewOnly: false, recorded: false });
  metrics.observe({ ...closed, ...fileClose('browser', 4000, 'access window closed') });
  const text = await metrics.render();
  assert.equal(metricValue(text, 'porthole_connections_closed_total', { kind: 'ssh', code: '1000', closed_by: 'browser' }), 1);
  assert.equal(text.includes('code="4000"'), false);
});
