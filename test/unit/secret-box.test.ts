import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../server/src/crypto/secret-box.js';

const box = new SecretBox(randomBytes(32));

test('secret box: round trip, including non-ASCII and long secrets', () => {
  for (const secret of ['hunter2', 'pässwörd ✓ 🔑', 'x'.repeat(10_000), '']) {
    const sealed = box.seal(secret, 'build:b1:ssh.password');
    assert.ok(!sealed.includes(secret) || secret === '');
    assert.deepEqual(box.open(sealed, 'build:b1:ssh.password'), { ok: true, value: secret });
  }
});

test('secret box: each seal uses a fresh nonce', () => {
  assert.notEqual(box.seal('same', 'ctx'), box.seal('same', 'ctx'));
});

test('secret box: another row, another key, or a flipped bit does not open', () => {
  const sealed = box.seal('hunter2', 'build:b1:ssh.password');
  assert.deepEqual(box.open(sealed, 'build:b2:ssh.password'), { ok: false, error: 'tampered_or_wrong_key' });
  assert.deepEqual(new SecretBox(randomBytes(32)).open(sealed, 'build:b1:ssh.password'), { ok: false, error: 'tampered_or_wrong_key' });
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
  assert.deepEqual(box.open(`v1.${raw.toString('base64url')}`, 'build:b1:ssh.password'), { ok: false, error: 'tampered_or_wrong_key' });
  assert.deepEqual(box.open('plaintext', 'build:b1:ssh.password'), { ok: false, error: 'malformed' });
  assert.deepEqual(box.open('v1.AAAA', 'build:b1:ssh.password'), { ok: false, error: 'malformed' });
});

test('secret box: refuses keys of the wrong size', () => {
  assert.throws(() => new SecretBox(randomBytes(16)), /32-byte key/);
});
