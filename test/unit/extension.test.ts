import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideExtension, extensionCap, releaseReason, type ExtendableBuild } from '../../server/src/access/extension.js';
import { toWindowView } from '../../server/src/access/build-access.js';
import type { BuildRecord } from '../../server/src/store/store.js';
import type { AppId, BuildId } from '../../shared/src/ids.js';

const MINUTE = 60_000;
const GRACE = 10;
const finishedAt = new Date('2030-01-01T12:00:00.000Z');
const natural = new Date(finishedAt.getTime() + GRACE * MINUTE);
const policy = { stepMinutes: 15, maxMinutes: 60 };

function build(overrides: Partial<ExtendableBuild> = {}): ExtendableBuild {
  return { startedAt: new Date('2030-01-01T11:00:00.000Z'), finishedAt, closesAt: natural, extensions: policy, ...overrides };
}
const before = (close: Date, minutes: number): Date => new Date(close.getTime() - minutes * MINUTE);

describe('decideExtension', () => {
  it('moves the close time later by one step within the last step', () => {
    const result = decideExtension(build(), before(natural, 5), GRACE);
    assert.deepEqual(result, { ok: true, value: { from: natural, to: new Date(natural.getTime() + 15 * MINUTE) } });
  });

  it('accepts exactly one step before the close time, not a millisecond earlier', () => {
    assert.equal(decideExtension(build(), before(natural, 15), GRACE).ok, true);
    assert.deepEqual(decideExtension(build(), new Date(before(natural, 15).getTime() - 1), GRACE), { ok: false, error: 'extension_too_early' });
  });

  it('is not available without a policy or before the close time is known', () => {
    assert.deepEqual(decideExtension(build({ extensions: null }), before(natural, 5), GRACE), { ok: false, error: 'extension_not_available' });
    assert.deepEqual(decideExtension(build({ closesAt: null, finishedAt: null }), finishedAt, GRACE), { ok: false, error: 'extension_not_available' });
  });

  it('stops at finishedAt + grace + maxMinutes, clipping the last step', () => {
    const cap = extensionCap(finishedAt, GRACE, policy);
    assert.equal(cap.getTime(), natural.getTime() + 60 * MINUTE);
    const nearCap = new Date(cap.getTime() - 10 * MINUTE);
    assert.deepEqual(decideExtension(build({ closesAt: nearCap }), before(nearCap, 1), GRACE), { ok: true, value: { from: nearCap, to: cap } });
    assert.deepEqual(decideExtension(build({ closesAt: cap }), before(cap, 1), GRACE), { ok: false, error: 'extension_limit_reached' });
  });

  it('refuses a closed window (past, revoked or released) whatever the policy', () => {
    assert.deepEqual(decideExtension(build(), natural, GRACE), { ok: false, error: 'window_closed' });
    const revokedAt = before(natural, 3);
    assert.deepEqual(decideExtension(build({ closesAt: revokedAt }), revokedAt, GRACE), { ok: false, error: 'window_closed' });
  });
});

describe('toWindowView and extensions', () => {
  const record = (closesAt: Date | null): BuildRecord => ({
    id: 'b1' as BuildId,
    appId: 'a1' as AppId,
    stack: 'linux',
    status: 'finished',
    startedAt: new Date('2030-01-01T11:00:00.000Z'),
    finishedAt,
    triggeredBy: null,
    closesAt,
    ssh: { host: 'h', port: 22, username: 'u', sealedPassword: null, sealedPrivateKey: null, hostKey: null, pinnedHostKey: null },
    vnc: null,
    extensions: policy,
    extendedMs: 0,
  });

  it('names the step early and allows it only in the last step, and never to a tester', () => {
    assert.deepEqual(pick(toWindowView(record(natural), before(natural, 30), GRACE, true)), { extendStepMinutes: 15, canExtend: false });
    assert.deepEqual(pick(toWindowView(record(natural), before(natural, 5), GRACE, true)), { extendStepMinutes: 15, canExtend: true });
    assert.deepEqual(pick(toWindowView(record(natural), before(natural, 5), GRACE, false)), { extendStepMinutes: null, canExtend: false });
    const cap = extensionCap(finishedAt, GRACE, policy);
    assert.deepEqual(pick(toWindowView(record(cap), before(cap, 5), GRACE, true)), { extendStepMinutes: null, canExtend: false });
  });
});

describe('releaseReason', () => {
  it('names who released the VM', () => {
    assert.equal(releaseReason('Ada Lovelace'), 'released by Ada Lovelace');
  });
});

function pick(view: { extendStepMinutes: number | null; canExtend: boolean }): { extendStepMinutes: number | null; canExtend: boolean } {
  return { extendStepMinutes: view.extendStepMinutes, canExtend: view.canExtend };
}

describe('cluster messages carry extends and releases', () => {
  it('round-trips the cause and the release reason', async () => {
    const { decodeChange, encodeChange } = await import('../../server/src/cluster/access-changes.js');
    const closesAt = new Date('2030-01-01T12:25:00.000Z');
    const buildId = 'b1' as BuildId;
    assert.deepEqual(decodeChange(encodeChange('n1', { type: 'window', buildId, closesAt, cause: 'extend' })), { node: 'n1', change: { type: 'window', buildId, closesAt, cause: 'extend' } });
    const release = { type: 'window', buildId, closesAt, cause: 'release', reason: 'released by Ada' } as const;
    assert.deepEqual(decodeChange(encodeChange('n1', release)), { node: 'n1', change: release });
    // A reason longer than a close frame holds is not a message any node sends.
    assert.equal(decodeChange(encodeChange('n1', { ...release, reason: 'x'.repeat(121) })), null);
  });
});
