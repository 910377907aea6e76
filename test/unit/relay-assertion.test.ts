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
  watcher: null,
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

const watcherClaims: RelayClaims = { ...claims, userId: 'user-watcher' as UserId, watcher: { sessionEpoch: 'epoch-7', signInId: 'sign-in-3' } };

/** Signs a raw body as a node would, under the given version label. */
function signedRaw(version: string, body: Record<string, unknown>): string {
  const signed = `${version}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
  return `PortholeNode ${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}

function bodyOf(header: string): Record<string, unknown> {
  const payload = header.split(' ')[1]?.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

test('a watcher is signed v2 with watch, its session epoch and sign-in; a resume stays v1 for nodes of the previous release (issue #16)', () => {
  const watch = signRelayAssertion(key, watcherClaims, T0);
  assert.match(watch, /^PortholeNode v2\./);
  assert.deepEqual(
    Object.keys(bodyOf(watch)).sort(),
    ['buildId', 'expiresAt', 'from', 'kind', 'nonce', 'sessionEpoch', 'sessionId', 'signInId', 'to', 'userId', 'watch'].sort(),
  );
  assert.equal(bodyOf(watch)['watch'], true);
  assert.deepEqual(verifyRelayAssertion(key, watch, 'node-a', at(1), new NonceMemory()), { ok: true, value: watcherClaims });
  const embedWatcher: RelayClaims = { ...watcherClaims, watcher: { sessionEpoch: 'epoch-7', signInId: null } };
  assert.deepEqual(verifyRelayAssertion(key, signRelayAssertion(key, embedWatcher, T0), 'node-a', at(1), new NonceMemory()), { ok: true, value: embedWatcher });

  const resume = signRelayAssertion(key, claims, T0);
  assert.match(resume, /^PortholeNode v1\./);
  assert.deepEqual(Object.keys(bodyOf(resume)).sort(), ['buildId', 'expiresAt', 'from', 'kind', 'nonce', 'sessionId', 'to', 'userId'].sort(), 'exactly the v1 claims');
});

test('a watcher assertion relabelled, reshaped or edited is refused (issue #16)', () => {
  const body = bodyOf(signRelayAssertion(key, watcherClaims, T0));
  const verify = (header: string) => verifyRelayAssertion(key, header, 'node-a', at(1), new NonceMemory());
  // The version is signed: a watcher cannot pass for a resume, nor a resume for a watcher.
  const watch = signRelayAssertion(key, watcherClaims, T0);
  assert.deepEqual(verify(watch.replace('PortholeNode v2.', 'PortholeNode v1.')), { ok: false, error: 'bad_signature' });
  // Correctly signed, but not that version's claims.
  assert.deepEqual(verify(signedRaw('v1', body)), { ok: false, error: 'malformed' }, 'v1 has no watcher fields');
  const { watch: _watch, sessionEpoch: _epoch, signInId: _signIn, ...resumeBody } = body;
  assert.deepEqual(verify(signedRaw('v2', resumeBody)), { ok: false, error: 'malformed' }, 'v2 needs the watcher');
  assert.deepEqual(verify(signedRaw('v2', { ...body, watch: false })), { ok: false, error: 'malformed' }, 'v2 is a watcher');
  assert.deepEqual(verify(signedRaw('v2', { ...body, sessionEpoch: '' })), { ok: false, error: 'malformed' });
  assert.deepEqual(verify(signedRaw('v3', body)), { ok: false, error: 'malformed' }, 'unknown versions');
  assert.deepEqual(verify(signedRaw('v2', body)).ok, true, 'the same body, rightly labelled');
  // Any edit to the watcher's identity breaks the signature.
  const [scheme, token = ''] = watch.split(' ');
  const [version, , signature] = token.split('.');
  for (const edit of [{ sessionEpoch: 'epoch-8' }, { signInId: null }, { userId: 'user-other' }]) {
    const forged = Buffer.from(JSON.stringify({ ...body, ...edit })).toString('base64url');
    assert.deepEqual(verify(`${scheme} ${version}.${forged}.${signature}`), { ok: false, error: 'bad_signature' }, JSON.stringify(edit));
  }
});
