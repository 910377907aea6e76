/**
 * A browser may close its WebSocket with any code and reason it likes, including the gateway's own
 * 4000 "access window closed". The audit trail and the metrics must record such a close as the
 * browser's: `closedBy: "browser"`, a code from the few a browser's close is filed under, the
 * browser's own code kept apart, its reason left out, and no metric series posing as the gateway's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { connectScreen } from '../helpers/screen-client.js';
import { startFakeRfbServer, type FakeRfbServer } from '../helpers/ard-server.js';
import { metricValue, scrapeMetrics, waitForAudit } from '../helpers/ops.js';
import type { AuditEventView } from '../../shared/src/api.js';

const VNC_PASSWORD = 'closepw1';
/** Posing as the gateway: its own codes and wording, and a reason too long for any audit column. */
const FORGED_CLOSES = [
  { code: 4000, reason: 'access window closed' },
  { code: 4001, reason: 'access revoked' },
  { code: 4999, reason: 'x'.repeat(123) },
  { code: 3000, reason: '<img src=x onerror=alert(1)>' },
] as const;

let sshd: SshdHandle;
let rfb: FakeRfbServer;
let gw: TestGateway;
let world: World;

before(async () => {
  sshd = await startSshd();
  rfb = await startFakeRfbServer({ username: 'runner', password: VNC_PASSWORD, securityTypes: [2] });
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd), vnc: { host: rfb.host, port: rfb.port, password: VNC_PASSWORD } });
});
after(async () => {
  await gw.close();
  await rfb.stop();
  await sshd.stop();
});

function closedRow(connectionId: string): (event: AuditEventView) => boolean {
  return (event) => event.event === 'connection_closed' && event.details['connectionId'] === connectionId;
}

async function lastOpenedId(buildId: string, seen: ReadonlySet<string>): Promise<string> {
  const opened = await waitForAudit(gw, (e) => e.event === 'connection_opened' && !seen.has(String(e.details['connectionId'])), { buildId });
  return String(opened.details['connectionId']);
}

function assertFiledAsBrowser(row: AuditEventView, forged: { code: number; reason: string }): void {
  assert.equal(row.details['closedBy'], 'browser', JSON.stringify(row));
  assert.equal(row.details['closeCode'], 1000, 'an unlisted browser code is filed as a normal close');
  assert.equal(row.details['browserCloseCode'], forged.code);
  assert.equal(row.details['reason'], 'closed by the browser');
  assert.equal(JSON.stringify(row).includes(forged.reason), false, "the browser's reason stays out of the audit row");
}

describe('a browser closing with the gateway\'s codes', () => {
  test('terminal: audit rows say the browser closed; metrics count no 4000/4001/4999/3000', async () => {
    const before = await scrapeMetrics(gw);
    const agent = await signIn(gw, world.users.developer);
    const seen = new Set<string>();
    for (const forged of FORGED_CLOSES) {
      const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
      await t.waitForControl('ready');
      const connectionId = await lastOpenedId(world.builds.linuxRunning, seen);
      seen.add(connectionId);
      t.ws.close(forged.code, forged.reason);
      await t.closed;
      assertFiledAsBrowser(await waitForAudit(gw, closedRow(connectionId), { buildId: world.builds.linuxRunning }), forged);
    }
    const after = await scrapeMetrics(gw);
    for (const code of ['4000', '4001', '4999', '3000', 'other']) {
      for (const closedBy of ['browser', 'gateway']) {
        const labels = { kind: 'ssh', code, closed_by: closedBy };
        assert.equal(metricValue(after, 'porthole_connections_closed_total', labels), metricValue(before, 'porthole_connections_closed_total', labels), JSON.stringify(labels));
      }
    }
    const browserNormal = { kind: 'ssh', code: '1000', closed_by: 'browser' };
    assert.equal(metricValue(after, 'porthole_connections_closed_total', browserNormal) - metricValue(before, 'porthole_connections_closed_total', browserNormal), FORGED_CLOSES.length);
    // No series of any metric is labelled with the forged code (a bare '4999' can be part of a
    // float such as process_cpu_seconds_total 0.24999).
    assert.equal(/="4999"/.test(after), false);
  });

  test('screen: the same for /ws/vnc', async () => {
    const agent = await signIn(gw, world.users.developer);
    const seen = new Set<string>();
    for (const forged of FORGED_CLOSES.slice(0, 2)) {
      const screen = await connectScreen(await mintTicket(gw, agent, world.builds.macRunning, 'vnc'), gw);
      assert.ok(screen.serverInit, 'the screen is up before the browser closes it');
      const connectionId = await lastOpenedId(world.builds.macRunning, seen);
      seen.add(connectionId);
      screen.ws.close(forged.code, forged.reason);
      await screen.closed;
      assertFiledAsBrowser(await waitForAudit(gw, closedRow(connectionId), { buildId: world.builds.macRunning }), forged);
    }
  });

  test('the gateway\'s own closes stay the gateway\'s: a revoke is 4000 with closedBy "gateway"', async () => {
    const api = control(gw);
    await api.put('/builds/close-revoked', { appId: 'app-1', stack: 'linux', status: 'running', startedAt: new Date().toISOString(), remoteAccess: { ssh: passwordEndpoint(sshd) } });
    const agent = await signIn(gw, world.users.developer);
    const t = await connectTerminal(await mintTicket(gw, agent, 'close-revoked'), gw);
    await t.waitForControl('ready');
    const connectionId = await lastOpenedId('close-revoked', new Set());
    assert.equal((await api.post('/builds/close-revoked/revoke')).status, 200);
    assert.equal((await t.closed).code, 4000);
    const row = await waitForAudit(gw, closedRow(connectionId), { buildId: 'close-revoked' });
    assert.equal(row.details['closedBy'], 'gateway');
    assert.equal(row.details['closeCode'], 4000);
    assert.equal(row.details['browserCloseCode'], null);
    const metrics = await scrapeMetrics(gw);
    assert.equal(metricValue(metrics, 'porthole_connections_closed_total', { kind: 'ssh', code: '4000', closed_by: 'gateway' }), 1);
  });
});
