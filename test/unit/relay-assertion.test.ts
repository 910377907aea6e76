/** The assertion one node shows another to attach a relayed page to a session held there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import {
  deriveRelayKey,
  NonceMemory,
  RELAY_ASSERTION_TTL_MS,
  signRelayAssertion,
  verifyRelayAssertion,
  type RelayClaims,
} from '../../server/src/cluster/relay-assertion.js';
import type { BuildId, UserId } from '../../shared/src/ids.js';

const T0 = new Date('2026-12-02T10:00:00Z');
const secretKey = randomBytes(32);
const key = deriveRelayKey(secretKey);
const claims: RelayClaims = {
  sessionId: '0123456789abcdef',
  userId: 'user-1' as UserId,
  buildId: 'build-1' as BuildId,
  kind: 'ssh',
  from: 'node-b',
  to: 'node-a',
};

function at(ms: number): Date {
  return new Date(T0.getTime() + ms);
}

test('a signed assertion is accepted once, by the node it names, with its claims', () => {
  const header = signRelayAssertion(key, claims, T0);
  const spent = new NonceMemory();
  assert.deepEqual(verifyRelayAssertion(key, header, 'node-a', at(1), spent), { ok: true, value: claims });
  assert.deepEqual(verifyRelayAssertion(key, header, 'node-a', at(2), spent), { ok: false, error: 'replayed' });
  assert.deepEqual(verifyRelayAssertion(key, signRelayAssertion(key, claims, T0), 'node-c', at(1), new NonceMemory()), { ok: false, error: 'wrong_node' });
});

test('a forwarded watcher action carries the watcher and the action inside the signature', () => {
  const acting: RelayClaims = { ...claims, act: { watcherId: 'user-2' as UserId, op: 'remove' } };
  assert.deepEqual(verifyRelayAssertion(key, signRelayAssertion(key, acting, T0), 'node-a', at(1), new NonceMemory()), { ok: true, value: acting });
  const unsigned = signRelayAssertion(key, { ...acting, act: { watcherId: 'user-2' as UserId, op: 'drive' } }, T0).split('.');
  const swapped = signRelayAssertion(key, acting, T0).split('.');
  // The claims of one action with the signature of another: refused.
  assert.deepEqual(verifyRelayAssertion(key, [swapped[0], unsigned[1], swapped[2]].join('.'), 'node-a', at(1), new NonceMemory()), { ok: false, error: 'bad_signature' });
  const bad = { ...claims, act: { watcherId: 'user-2', op: 'own' } } as unknown as RelayClaims;
  assert.deepEqual(verifyRelayAssertion(key, signRelayAssertion(key, bad, T0), 'node-a', at(1), new NonceMemory()), { ok: false, error: 'malformed' });
});

test('the key is derived from the shared secret key: the same on every node, and not the secret key itself', () => {
  assert.deepEqual(deriveRelayKey(Buffer.from(secretKey)), key);
  assert.notDeepEqual(key, secretKey);
  const otherCluster = deriveRelayKey(randomBytes(32));
  assert.deepEqual(verifyRelayAssertion(otherCluster, signRelayAssertion(key, claims, T0), 'node-a', T0, new NonceMemory()), { ok: false, error: 'bad_signature' });
});

test('an assertion past its lifetime, or dated too far ahead, is refused', () => {
  const header = signRelayAssertion(key, claims, T0);
  assert.deepEqual(verifyRelayAssertion(key, header, 'node-a', at(RELAY_ASSERTION_TTL_MS), new NonceMemory()), { ok: false, error: 'expired' });
  const fromTheFuture = signRelayAssertion(key, claims, at(60_000));
  assert.deepEqual(verifyRelayAssertion(key, fromTheFuture, 'node-a', T0, new NonceMemory()), { ok: false, error: 'expired' });
});

test('a changed claim breaks the signature; garbage and missing headers are malformed', () => {
  const header = signRelayAssertion(key, claims, T0);
  const [scheme, token = ''] = header.split(' ');
  const [version, payload = '', signature] = token.split('.');
  const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...body, userId: 'user-2' })).toString('base64url');
  assert.deepEqual(verifyRelayAssertion(key, `${scheme} ${version}.${forged}.${signature}`, 'node-a', T0, new NonceMemory()), { ok: false, error: 'bad_signature' });
  for (const bad of [undefined, '', 'Bearer x', `${scheme} ${token}x`, `${scheme} v2.${payload}.${signature}`, `PortholeNode v1.e30.${'A'.repeat(43)}`]) {
    assert.equal(verifyRelayAssertion(key, bad, 'node-a', T0, new NonceMemory()).ok, false, String(bad));
  }
});

test('a correctly signed body that is not a set of claims is malformed', () => {
  const signed = `v1.${Buffer.from(JSON.stringify({ sessionId: 'x' })).toString('base64url')}`;
  const header = `PortholeNode ${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
  assert.deepEqual(verifyRelayAssertion(key, header, 'node-a', T0, new NonceMemory()), { ok: false, error: 'malformed' });
});

test('the nonce memory forgets expired nonces and fails closed when full of live ones', () => {
  const memory = new NonceMemory(2);
  assert.equal(memory.spend('a', 100, 0), true);
  assert.equal(memory.spend('b', 100, 0), true);
  assert.equal(memory.spend('c', 100, 0), false);
  assert.equal(memory.spend('c', 200, 100), true);
  assert.equal(memory.size, 1);
  assert.equal(memory.spend('c', 300, 150), false);
});
