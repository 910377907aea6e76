/** PORTHOLE_EMBED_ORIGINS: exact origins only, and loud warnings for settings that put users at risk. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../server/src/config/config.js';

const VALID = {
  PORTHOLE_SESSION_SECRET: 's'.repeat(32),
  PORTHOLE_SECRET_KEY: 'ab'.repeat(32),
  PORTHOLE_CONTROL_TOKEN: 't'.repeat(20),
  PORTHOLE_PUBLIC_URL: 'https://porthole.example.com',
  PORTHOLE_TRUST_PROXY: 'true',
  PORTHOLE_SHOW_NATIVE_CREDENTIALS: 'false',
};

test('embed origins: empty by default, parsed, de-duplicated and frozen', () => {
  const plain = loadConfig(VALID);
  assert.ok(plain.ok);
  assert.deepEqual(plain.value.config.embedOrigins, []);
  assert.deepEqual(plain.value.warnings, []);

  const result = loadConfig({ ...VALID, PORTHOLE_EMBED_ORIGINS: ' https://ci.example.com , https://tools.example.com:8443,https://ci.example.com' });
  assert.ok(result.ok);
  assert.deepEqual(result.value.config.embedOrigins, ['https://ci.example.com', 'https://tools.example.com:8443']);
  assert.ok(Object.isFrozen(result.value.config.embedOrigins));
  assert.deepEqual(result.value.warnings, []);
  // An empty value means unset.
  const empty = loadConfig({ ...VALID, PORTHOLE_EMBED_ORIGINS: '' });
  assert.ok(empty.ok);
  assert.deepEqual(empty.value.config.embedOrigins, []);
});

test('embed origins: anything but an exact origin is refused in one line', () => {
  for (const value of [
    'https://ci.example.com/',
    'https://ci.example.com/app',
    'https://CI.example.com',
    'https://ci.example.com:443',
    'http://ci.example.com:80',
    'https://*.example.com',
    '*',
    'null',
    'ci.example.com',
    'ftp://ci.example.com',
    'https://user@ci.example.com',
    'https://ci.example.com?x=1',
    'https://ci.example.com#x',
    'https://ci.example.com, not an origin',
  ]) {
    const result = loadConfig({ ...VALID, PORTHOLE_EMBED_ORIGINS: value });
    assert.equal(result.ok, false, value);
    if (result.ok) continue;
    assert.match(result.error, /^Invalid configuration: PORTHOLE_EMBED_ORIGINS\.\d+ ".*" is not an exact origin like https:\/\/ci\.example\.com/, value);
    assert.equal(result.error.includes('\n'), false);
  }
});

test('embed origins: unsafe or unusable settings warn loudly', () => {
  const http = loadConfig({ ...VALID, PORTHOLE_EMBED_ORIGINS: 'http://ci.example.com,http://localhost:3000,http://127.0.0.1:3000' });
  assert.ok(http.ok);
  assert.equal(http.value.warnings.length, 1, http.value.warnings.join('\n'));
  assert.match(http.value.warnings[0] ?? '', /PORTHOLE_EMBED_ORIGINS includes http:\/\/ci\.example\.com, plain http on a non-loopback host/);

  const mixed = loadConfig({ ...VALID, PORTHOLE_PUBLIC_URL: 'http://127.0.0.1:8080', PORTHOLE_EMBED_ORIGINS: 'https://ci.example.com' });
  assert.ok(mixed.ok);
  assert.match(mixed.value.warnings.join('\n'), /browsers refuse an http frame inside an https page/);

  const noControl = loadConfig({ ...VALID, PORTHOLE_CONTROL_TOKEN: '', PORTHOLE_EMBED_ORIGINS: 'https://ci.example.com' });
  assert.ok(noControl.ok);
  assert.match(noControl.value.warnings.join('\n'), /PORTHOLE_EMBED_ORIGINS is set but PORTHOLE_CONTROL_TOKEN is not/);
});
