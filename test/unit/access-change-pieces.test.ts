/** Small pure pieces of issue #22: VM endpoint fingerprints, kept ciphertexts, client addresses, per-user token bounds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { endpointFingerprints, keepSealedIfSame } from '../../server/src/domain/vm-endpoint.js';
import { SecretBox } from '../../server/src/crypto/secret-box.js';
import { clientAddressOf, lastForwarded } from '../../server/src/http/client-address.js';
import { HashedTokenMap } from '../../server/src/connections/hashed-tokens.js';
import type { BuildRecord } from '../../server/src/store/store.js';

const SSH: BuildRecord['ssh'] = { host: '10.0.0.5', port: 22, username: 'runner', sealedPassword: 'v1.a', sealedPrivateKey: null, hostKey: null, pinnedHostKey: null };
const VNC: NonNullable<BuildRecord['vnc']> = { host: '10.0.0.5', port: 5900, username: null, sealedPassword: 'v1.b' };

test('endpoint fingerprints change with whatever is dialled or logged in with, and only then', () => {
  const base = endpointFingerprints({ ssh: SSH, vnc: VNC });
  assert.deepEqual(endpointFingerprints({ ssh: { ...SSH }, vnc: { ...VNC } }), base);
  assert.deepEqual(endpointFingerprints({ ssh: { ...SSH, pinnedHostKey: 'SHA256:x' }, vnc: VNC }), base, 'the gateway’s own pin is not a new VM');
  for (const change of [{ host: '10.0.0.6' }, { port: 2222 }, { username: 'admin' }, { sealedPassword: 'v1.c' }, { sealedPrivateKey: 'v1.k' }, { hostKey: 'SHA256:y' }]) {
    const changed = endpointFingerprints({ ssh: { ...SSH, ...change }, vnc: VNC });
    assert.notEqual(changed.ssh, base.ssh, JSON.stringify(change));
    assert.equal(changed.vnc, base.vnc, 'the other kind is untouched');
  }
  assert.notEqual(endpointFingerprints({ ssh: SSH, vnc: { ...VNC, sealedPassword: 'v1.d' } }).vnc, base.vnc);
  assert.equal(endpointFingerprints({ ssh: SSH, vnc: null }).vnc, null);
});

test('a secret sent again keeps its stored ciphertext; a new one, or one sealed for another field, is sealed anew', () => {
  const box = new SecretBox(randomBytes(32));
  const stored = box.seal('pw-1', 'build:b:ssh.password');
  assert.equal(keepSealedIfSame(box, stored, 'pw-1', 'build:b:ssh.password'), stored);
  const rotated = keepSealedIfSame(box, stored, 'pw-2', 'build:b:ssh.password');
  assert.notEqual(rotated, stored);
  assert.deepEqual(box.open(rotated, 'build:b:ssh.password'), { ok: true, value: 'pw-2' });
  assert.notEqual(keepSealedIfSame(box, stored, 'pw-1', 'build:b:vnc.password'), stored);
  assert.notEqual(keepSealedIfSame(box, null, 'pw-1', 'build:b:ssh.password'), stored);
});

test('client address: the socket peer, or behind a trusted proxy the entry that proxy appended', () => {
  const req = (forwarded?: string | string[]): IncomingMessage => ({ socket: { remoteAddress: '10.1.1.1' }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as IncomingMessage;
  assert.equal(clientAddressOf(req('203.0.113.9'), false), '10.1.1.1', 'an untrusted header is ignored');
  assert.equal(clientAddressOf(req('203.0.113.9, 198.51.100.7'), true), '198.51.100.7');
  assert.equal(clientAddressOf(req(), true), '10.1.1.1');
  assert.equal(clientAddressOf(req(' , '), true), '10.1.1.1');
  assert.equal(lastForwarded(['1.1.1.1', '2.2.2.2, 3.3.3.3']), '3.3.3.3');
});

test('per-owner token bounds: refused past the share, or the owner’s oldest evicted; a taken token frees its place', () => {
  const now = (): Date => new Date('2026-12-01T10:00:00Z');
  const claims = (userId: string): { userId: string; expiresAt: Date } => ({ userId, expiresAt: new Date('2026-12-01T11:00:00Z') });
  type Claims = ReturnType<typeof claims>;
  const refusing = new HashedTokenMap<Claims>(now, 100, { ownerOf: (c) => c.userId, max: 2, whenFull: 'refuse' });
  const evicting = new HashedTokenMap<Claims>(now, 100, { ownerOf: (c) => c.userId, max: 2, whenFull: 'evict_oldest' });
  try {
    const first = refusing.issue(claims('a'));
    assert.ok(first.ok && refusing.issue(claims('a')).ok);
    assert.deepEqual(refusing.issue(claims('a')), { ok: false, error: 'owner_full' });
    assert.ok(refusing.issue(claims('b')).ok, 'other owners are unaffected');
    assert.ok(refusing.take(first.value).ok);
    assert.ok(refusing.issue(claims('a')).ok, 'a redeemed token no longer counts');

    const oldest = evicting.issue(claims('a'));
    const second = evicting.issue(claims('a'));
    const third = evicting.issue(claims('a'));
    assert.ok(oldest.ok && second.ok && third.ok);
    assert.deepEqual(evicting.peek(oldest.value), { ok: false, reason: 'unknown_or_used' }, 'the oldest made room');
    assert.ok(evicting.peek(second.value).ok && evicting.peek(third.value).ok);
    assert.equal(evicting.size, 2);
  } finally {
    refusing.dispose();
    evicting.dispose();
  }
});
