/** The bounded, hashed token map behind connection tickets, embed launches and embed credentials. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashedTokenMap } from '../../server/src/connections/hashed-tokens.js';
import { EmbedCredentialBook, EMBED_CREDENTIAL_MAX_TTL_MS } from '../../server/src/connections/embed-credentials.js';
import { EmbedLaunchBook, EMBED_LAUNCH_TTL_MS } from '../../server/src/connections/embed-launches.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';

const T0 = new Date('2026-11-27T10:00:00Z');

function clock(): { now: () => Date; advance: (ms: number) => void } {
  let at = T0.getTime();
  return { now: () => new Date(at), advance: (ms) => (at += ms) };
}

test('take is single use; peek lasts until expiry; expired tokens are refused as such', () => {
  const c = clock();
  const map = new HashedTokenMap<{ expiresAt: Date; n: number }>(c.now, 10);
  try {
    const a = map.issue({ expiresAt: new Date(T0.getTime() + 1000), n: 1 });
    assert.ok(a.ok);
    assert.deepEqual(map.peek(a.value), { ok: true, claims: { expiresAt: new Date(T0.getTime() + 1000), n: 1 } });
    assert.equal(map.peek(a.value).ok, true, 'peek does not consume');
    assert.equal(map.take(a.value).ok, true);
    assert.deepEqual(map.take(a.value), { ok: false, reason: 'unknown_or_used' });

    const b = map.issue({ expiresAt: new Date(T0.getTime() + 1000), n: 2 });
    assert.ok(b.ok);
    c.advance(1000);
    assert.deepEqual(map.peek(b.value), { ok: false, reason: 'expired' });
    assert.deepEqual(map.peek(b.value), { ok: false, reason: 'unknown_or_used' }, 'an expired record is dropped');
    assert.deepEqual(map.take('made-up'), { ok: false, reason: 'unknown_or_used' });
  } finally {
    map.dispose();
  }
});

test('the map is bounded: full means refused, and expired records make room', () => {
  const c = clock();
  const map = new HashedTokenMap<{ expiresAt: Date }>(c.now, 3);
  try {
    for (let i = 0; i < 3; i++) assert.ok(map.issue({ expiresAt: new Date(T0.getTime() + 1000) }).ok);
    assert.deepEqual(map.issue({ expiresAt: new Date(T0.getTime() + 1000) }), { ok: false, error: 'full' });
    c.advance(1000);
    assert.ok(map.issue({ expiresAt: new Date(T0.getTime() + 5000) }).ok);
    assert.equal(map.size, 1);
  } finally {
    map.dispose();
  }
});

test('launches live 60 s; credentials die with the window, and never outlive a working day', async () => {
  const c = clock();
  const launches = new EmbedLaunchBook(c.now);
  const credentials = new EmbedCredentialBook(c.now);
  const claims = { userId: 'u' as UserId, buildId: 'b' as BuildId, kind: 'ssh' as const, parentOrigin: 'https://ci.example.com', viewOnly: false, watchSessionId: null, sessionEpoch: 'epoch-1' };
  try {
    const launch = await launches.mint(claims);
    assert.ok(launch.ok);
    assert.equal(launch.value.expiresAt.getTime(), T0.getTime() + EMBED_LAUNCH_TTL_MS);
    assert.equal(EMBED_LAUNCH_TTL_MS, 60_000);

    const closesAt = new Date(T0.getTime() + 5 * 60_000);
    const short = await credentials.mint(claims, closesAt);
    assert.ok(short.ok);
    assert.equal(short.value.expiresAt.getTime(), closesAt.getTime());
    const open = await credentials.mint(claims, null);
    assert.ok(open.ok);
    assert.equal(open.value.expiresAt.getTime(), T0.getTime() + EMBED_CREDENTIAL_MAX_TTL_MS);
    c.advance(5 * 60_000);
    assert.equal((await credentials.redeem(short.value.token)).ok, false);
    assert.equal((await credentials.redeem(open.value.token)).ok, true);
  } finally {
    launches.dispose();
    credentials.dispose();
  }
});
