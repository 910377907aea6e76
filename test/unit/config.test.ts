import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../server/src/config/config.js';

const VALID = {
  PORTHOLE_SESSION_SECRET: 's'.repeat(32),
  PORTHOLE_SECRET_KEY: 'ab'.repeat(32),
};

function errorOf(env: Record<string, string>): string {
  const result = loadConfig(env);
  assert.equal(result.ok, false, 'expected the configuration to be refused');
  return result.ok ? '' : result.error;
}

test('config: defaults follow the documented values', () => {
  const result = loadConfig(VALID);
  assert.ok(result.ok);
  const { config } = result.value;
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.publicOrigin, 'http://127.0.0.1:8080');
  assert.deepEqual(config.database, { kind: 'sqlite', path: './data/porthole.db' });
  assert.equal(config.graceMinutes, 10);
  assert.equal(config.showNativeCredentials, true);
  assert.equal(config.controlToken, null);
  assert.equal(config.secureCookies, false);
  assert.ok(Object.isFrozen(config));
});

test('config: each bad value is named in one line', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /^Invalid configuration: PORTHOLE_SESSION_SECRET is required/],
    [{ ...VALID, PORTHOLE_SESSION_SECRET: 'short' }, /PORTHOLE_SESSION_SECRET must be at least 32 characters/],
    [{ ...VALID, PORTHOLE_SECRET_KEY: 'xyz' }, /PORTHOLE_SECRET_KEY must be 64 hexadecimal characters/],
    [{ ...VALID, PORT: 'eighty' }, /^Invalid configuration: PORT /],
    [{ ...VALID, PORT: '70000' }, /^Invalid configuration: PORT /],
    [{ ...VALID, PORTHOLE_PUBLIC_URL: 'ftp://x' }, /PORTHOLE_PUBLIC_URL must be an http\(s\) URL/],
    [{ ...VALID, PORTHOLE_DATABASE: 'mysql://x' }, /PORTHOLE_DATABASE must be sqlite:PATH/],
    [{ ...VALID, PORTHOLE_DATABASE: 'sqlite:' }, /PORTHOLE_DATABASE sqlite: needs a file path/],
    [{ ...VALID, PORTHOLE_CONTROL_TOKEN: 'abc' }, /PORTHOLE_CONTROL_TOKEN must be at least 16 characters/],
    [{ ...VALID, PORTHOLE_GRACE_MINUTES: '-1' }, /^Invalid configuration: PORTHOLE_GRACE_MINUTES /],
    [{ ...VALID, PORTHOLE_ALLOWED_ORIGINS: 'https://ok.example, not a url' }, /PORTHOLE_ALLOWED_ORIGINS\.1 "not a url" is not an origin/],
    [{ ...VALID, PORTHOLE_ALLOWED_ORIGINS: 'https://ok.example/path' }, /is not an origin/],
    [{ ...VALID, PORTHOLE_SHOW_NATIVE_CREDENTIALS: 'maybe' }, /PORTHOLE_SHOW_NATIVE_CREDENTIALS must be true or false/],
  ];
  for (const [env, pattern] of cases) {
    const message = errorOf(env);
    assert.match(message, pattern);
    assert.equal(message.includes('\n'), false, 'one line');
  }
});

test('config: settings are parsed and normalised', () => {
  const result = loadConfig({
    ...VALID,
    PORT: '9000',
    PORTHOLE_PUBLIC_URL: 'https://porthole.example.com/',
    PORTHOLE_DATABASE: 'sqlite:/var/lib/porthole/p.db',
    PORTHOLE_ALLOWED_ORIGINS: 'https://ci.example.com, https://tools.example.com:8443',
    PORTHOLE_SHOW_NATIVE_CREDENTIALS: 'false',
    PORTHOLE_GRACE_MINUTES: '15',
    PORTHOLE_CONTROL_TOKEN: 't'.repeat(20),
    PORTHOLE_TRUST_PROXY: 'true',
  });
  assert.ok(result.ok);
  const { config, warnings } = result.value;
  assert.equal(config.publicOrigin, 'https://porthole.example.com');
  assert.equal(config.secureCookies, true);
  assert.deepEqual(config.database, { kind: 'sqlite', path: '/var/lib/porthole/p.db' });
  assert.deepEqual(config.allowedOrigins, ['https://ci.example.com', 'https://tools.example.com:8443']);
  assert.equal(config.showNativeCredentials, false);
  assert.equal(config.graceMinutes, 15);
  assert.equal(config.secretKey.length, 32);
  assert.deepEqual(warnings, []);
});

test('config: unsafe settings produce loud warnings', () => {
  const result = loadConfig({ ...VALID, PORTHOLE_PUBLIC_URL: 'http://porthole.example.com' });
  assert.ok(result.ok);
  const text = result.value.warnings.join('\n');
  assert.match(text, /plain http on a non-loopback host/);
  assert.match(text, /control API is disabled/);
  assert.match(text, /reveal VM passwords/);
  const proxied = loadConfig({ ...VALID, PORTHOLE_PUBLIC_URL: 'https://porthole.example.com' });
  assert.ok(proxied.ok);
  assert.match(proxied.value.warnings.join('\n'), /PORTHOLE_TRUST_PROXY is off/);
});

test('config: a non-loopback HOST needs a public URL', () => {
  assert.match(errorOf({ ...VALID, HOST: '0.0.0.0' }), /PORTHOLE_PUBLIC_URL is required when HOST \(0\.0\.0\.0\) is not a loopback address/);
  assert.ok(loadConfig({ ...VALID, HOST: '0.0.0.0', PORTHOLE_PUBLIC_URL: 'https://p.example.com' }).ok);
});

test('config: operability settings — metrics token, drain time, recordings', () => {
  const defaults = loadConfig({ ...VALID, PORTHOLE_DATABASE: 'sqlite:/var/lib/porthole/p.db', PORTHOLE_CONTROL_TOKEN: 'c'.repeat(20) });
  assert.ok(defaults.ok);
  assert.equal(defaults.value.config.metricsToken, 'c'.repeat(20), 'the control token scrapes unless a metrics token is set');
  assert.equal(defaults.value.config.drainSeconds, 10);
  assert.deepEqual(defaults.value.config.recordings, { dir: '/var/lib/porthole/recordings', retentionDays: 30, recordAll: false });
  assert.equal(defaults.value.config.auditRetentionDays, 365, 'the audit trail is kept a year unless set');
  const bare = loadConfig(VALID);
  assert.ok(bare.ok);
  assert.equal(bare.value.config.metricsToken, null, 'no token at all: /metrics is off');

  const set = loadConfig({
    ...VALID,
    PORTHOLE_CONTROL_TOKEN: 'c'.repeat(20),
    PORTHOLE_METRICS_TOKEN: 'm'.repeat(20),
    PORTHOLE_DRAIN_SECONDS: '2.5',
    PORTHOLE_RECORDINGS_DIR: '/srv/casts',
    PORTHOLE_RECORDING_RETENTION_DAYS: '7',
    PORTHOLE_RECORD_ALL: 'yes',
    PORTHOLE_AUDIT_RETENTION_DAYS: '90',
  });
  assert.ok(set.ok);
  assert.equal(set.value.config.auditRetentionDays, 90);
  assert.equal(set.value.config.metricsToken, 'm'.repeat(20));
  assert.equal(set.value.config.drainSeconds, 2.5);
  assert.deepEqual(set.value.config.recordings, { dir: '/srv/casts', retentionDays: 7, recordAll: true });

  assert.match(errorOf({ ...VALID, PORTHOLE_METRICS_TOKEN: 'short' }), /PORTHOLE_METRICS_TOKEN must be at least 16 characters/);
  assert.match(errorOf({ ...VALID, PORTHOLE_DRAIN_SECONDS: '0' }), /^Invalid configuration: PORTHOLE_DRAIN_SECONDS /);
  assert.match(errorOf({ ...VALID, PORTHOLE_DRAIN_SECONDS: 'soon' }), /PORTHOLE_DRAIN_SECONDS must be a number of seconds/);
  assert.match(errorOf({ ...VALID, PORTHOLE_RECORDING_RETENTION_DAYS: '-3' }), /^Invalid configuration: PORTHOLE_RECORDING_RETENTION_DAYS /);
  assert.match(errorOf({ ...VALID, PORTHOLE_RECORD_ALL: 'sometimes' }), /PORTHOLE_RECORD_ALL must be true or false/);
  assert.match(errorOf({ ...VALID, PORTHOLE_AUDIT_RETENTION_DAYS: '0' }), /^Invalid configuration: PORTHOLE_AUDIT_RETENTION_DAYS /);
  assert.match(errorOf({ ...VALID, PORTHOLE_AUDIT_RETENTION_DAYS: 'forever' }), /PORTHOLE_AUDIT_RETENTION_DAYS must be a number of days/);
});

test('config: PostgreSQL, node id, fail-closed and single sign-on settings', () => {
  const pg = loadConfig({ ...VALID, PORTHOLE_DATABASE: 'postgres://porthole:pw@db.internal:5432/porthole', PORTHOLE_NODE_ID: 'gw-1', PORTHOLE_FAIL_CLOSED_SECONDS: '15' });
  assert.ok(pg.ok);
  assert.deepEqual(pg.value.config.database, { kind: 'postgres', url: 'postgres://porthole:pw@db.internal:5432/porthole' });
  assert.equal(pg.value.config.nodeId, 'gw-1');
  assert.equal(pg.value.config.failClosedSeconds, 15);
  assert.equal(pg.value.config.oidc, null);
  assert.equal(pg.value.config.localLogin, true);
  const sso = loadConfig({ ...VALID, PORTHOLE_PUBLIC_URL: 'https://porthole.example.com', PORTHOLE_OIDC_ISSUER: 'https://login.example.com/realms/ci', PORTHOLE_OIDC_CLIENT_ID: 'porthole', PORTHOLE_LOCAL_LOGIN: 'false' });
  assert.ok(sso.ok);
  assert.equal(sso.value.config.oidc?.redirectUri.href, 'https://porthole.example.com/auth/oidc/callback');
  assert.equal(sso.value.config.oidc?.clientSecret, null);
  assert.equal(sso.value.config.localLogin, false);
  assert.match(errorOf({ ...VALID, PORTHOLE_LOCAL_LOGIN: 'false' }), /nobody could sign in/);
  assert.match(errorOf({ ...VALID, PORTHOLE_OIDC_CLIENT_ID: 'x' }), /PORTHOLE_OIDC_CLIENT_ID is set but PORTHOLE_OIDC_ISSUER is not/);
  assert.match(errorOf({ ...VALID, PORTHOLE_OIDC_ISSUER: 'https://login.example.com' }), /PORTHOLE_OIDC_CLIENT_ID is required/);
  assert.match(errorOf({ ...VALID, PORTHOLE_OIDC_ISSUER: 'http://login.example.com', PORTHOLE_OIDC_CLIENT_ID: 'x' }), /must be https/);
  assert.match(errorOf({ ...VALID, PORTHOLE_FAIL_CLOSED_SECONDS: '1' }), /^Invalid configuration: PORTHOLE_FAIL_CLOSED_SECONDS /);
  assert.match(errorOf({ ...VALID, PORTHOLE_NODE_ID: 'no spaces' }), /^Invalid configuration: PORTHOLE_NODE_ID /);
  const node = loadConfig(VALID);
  assert.ok(node.ok);
  assert.match(node.value.config.nodeId, /^[A-Za-z0-9._-]+-[0-9a-f]{8}$/, 'a default id unique per process');
});

test('config: the node URL other nodes relay resumed sessions to, and the warning without it on PostgreSQL', () => {
  const PG = { ...VALID, PORTHOLE_DATABASE: 'postgres://porthole:pw@db.internal:5432/porthole' };
  const missing = /PORTHOLE_NODE_URL is not set/;
  const without = loadConfig(PG);
  assert.ok(without.ok);
  assert.equal(without.value.config.nodeUrl, null);
  assert.ok(without.value.warnings.some((w) => missing.test(w)));
  const withUrl = loadConfig({ ...PG, PORTHOLE_NODE_URL: 'http://10.0.0.5:8080/' });
  assert.ok(withUrl.ok);
  assert.equal(withUrl.value.config.nodeUrl, 'http://10.0.0.5:8080', 'no trailing slash: paths are appended');
  assert.ok(!withUrl.value.warnings.some((w) => missing.test(w)));
  const resumeOff = loadConfig({ ...PG, PORTHOLE_RESUME_SECONDS: '0' });
  assert.ok(resumeOff.ok && !resumeOff.value.warnings.some((w) => missing.test(w)), 'nothing to relay when sessions are never held');
  const sqlite = loadConfig(VALID);
  assert.ok(sqlite.ok && !sqlite.value.warnings.some((w) => missing.test(w)), 'one SQLite node relays nothing');
  assert.match(errorOf({ ...VALID, PORTHOLE_NODE_URL: 'ftp://10.0.0.5' }), /^Invalid configuration: PORTHOLE_NODE_URL /);
});

test('config: PORTHOLE_WATCH turns watching on (default) and off; booleans take on/off too', () => {
  const on = loadConfig(VALID);
  assert.ok(on.ok && on.value.config.watch);
  const off = loadConfig({ ...VALID, PORTHOLE_WATCH: 'off' });
  assert.ok(off.ok && !off.value.config.watch);
  assert.match(errorOf({ ...VALID, PORTHOLE_WATCH: 'OFF' }), /^Invalid configuration: PORTHOLE_WATCH must be true or false/);
});

test('config: files — PORTHOLE_FILE_TRANSFER on by default, PORTHOLE_MAX_UPLOAD_BYTES 2 GiB, PORTHOLE_UPLOAD_IDLE_SECONDS 60', () => {
  const defaults = loadConfig(VALID);
  assert.ok(defaults.ok);
  assert.equal(defaults.value.config.fileTransfer, 'on');
  assert.equal(defaults.value.config.maxUploadBytes, 2 * 1024 ** 3);
  assert.equal(defaults.value.config.uploadIdleSeconds, 60);
  const set = loadConfig({ ...VALID, PORTHOLE_FILE_TRANSFER: 'download', PORTHOLE_MAX_UPLOAD_BYTES: '1048576', PORTHOLE_UPLOAD_IDLE_SECONDS: '2.5' });
  assert.ok(set.ok);
  assert.equal(set.value.config.fileTransfer, 'download');
  assert.equal(set.value.config.maxUploadBytes, 1048576);
  assert.equal(set.value.config.uploadIdleSeconds, 2.5);
  assert.match(errorOf({ ...VALID, PORTHOLE_UPLOAD_IDLE_SECONDS: '0' }), /PORTHOLE_UPLOAD_IDLE_SECONDS/);
  assert.match(errorOf({ ...VALID, PORTHOLE_UPLOAD_IDLE_SECONDS: '3601' }), /PORTHOLE_UPLOAD_IDLE_SECONDS/);
  assert.match(errorOf({ ...VALID, PORTHOLE_FILE_TRANSFER: 'yes' }), /PORTHOLE_FILE_TRANSFER/);
  assert.match(errorOf({ ...VALID, PORTHOLE_MAX_UPLOAD_BYTES: '0' }), /PORTHOLE_MAX_UPLOAD_BYTES/);
  assert.match(errorOf({ ...VALID, PORTHOLE_MAX_UPLOAD_BYTES: '1.5' }), /PORTHOLE_MAX_UPLOAD_BYTES/);
});
