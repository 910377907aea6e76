import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import Database from 'better-sqlite3';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, HOST_KEY } from '../helpers/seed.js';

const START = '2026-11-27T10:00:00Z';
const SSH = { host: '127.0.0.1', port: 2222, username: 'vagrant', password: 'ssh-secret-Aa1', hostKey: HOST_KEY };
const VNC = { host: '127.0.0.1', port: 5901, username: 'vagrant', password: 'vnc-secret-Bb2' };

function build(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { appId: 'app-1', stack: 'macos', status: 'running', startedAt: START, remoteAccess: { ssh: SSH, vnc: VNC }, ...overrides };
}

describe('control API', () => {
  let gw: TestGateway;
  let api: ReturnType<typeof control>;

  before(async () => {
    gw = await startGateway();
    api = control(gw);
  });
  after(() => gw.close());

  test('authentication: missing, malformed and wrong tokens are 401', async () => {
    for (const header of [undefined, 'Basic abc', 'Bearer', 'Bearer wrong-token', `Bearer ${gw.controlToken}x`]) {
      const req = request(gw.url).get('/api/v1/builds/nope');
      const res = await (header === undefined ? req : req.set('Authorization', header));
      assert.equal(res.status, 401, String(header));
      assert.equal(res.body.error.code, 'unauthenticated');
    }
  });

  test('users: created then updated, never returning the hash', async () => {
    const created = await api.put('/users/u-1', { email: 'Dev@Example.test', name: 'Dev', password: 'correct horse' });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { id: 'u-1', email: 'Dev@Example.test', name: 'Dev', hasPassword: true, oidcSubject: null });
    const updated = await api.put('/users/u-1', { email: 'dev@example.test' });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body, { id: 'u-1', email: 'dev@example.test', name: null, hasPassword: true, oidcSubject: null });
    assert.equal(JSON.stringify(updated.body).includes('argon2'), false);
    const clash = await api.put('/users/u-2', { email: 'DEV@example.test' });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'conflict');
  });

  test('apps and memberships', async () => {
    assert.equal((await api.put('/apps/app-1', { name: 'Mobile' })).status, 201);
    const renamed = await api.put('/apps/app-1', { name: 'Mobile App' });
    assert.equal(renamed.status, 200);
    assert.deepEqual(renamed.body, { id: 'app-1', name: 'Mobile App', recordSessions: false });
    const member = await api.put('/apps/app-1/members/u-1', { role: 'developer' });
    assert.equal(member.status, 201);
    assert.deepEqual(member.body, { appId: 'app-1', userId: 'u-1', role: 'developer' });
    assert.equal((await api.put('/apps/app-1/members/u-1', { role: 'tester' })).status, 200);
    assert.equal((await api.put('/apps/app-1/members/ghost', { role: 'tester' })).status, 404);
    assert.equal((await api.put('/apps/ghost/members/u-1', { role: 'tester' })).status, 404);
    const badRole = await api.put('/apps/app-1/members/u-1', { role: 'superuser' });
    assert.equal(badRole.status, 400);
    assert.match(badRole.body.error.message, /^role: /);
    assert.equal((await api.del('/apps/app-1/members/u-1')).status, 204);
    const again = await api.del('/apps/app-1/members/u-1');
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, 'not_found');
  });

  test('builds: create, read, update, with the window and no secrets', async () => {
    await api.put('/apps/app-1', { name: 'Mobile App' });
    const created = await api.put('/builds/b-1', build({ triggeredBy: 'u-1' }));
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, {
      id: 'b-1',
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      window: { opensAt: '2026-11-27T10:00:00.000Z', closesAt: null },
      extensions: null,
    });
    const read = await api.get('/builds/b-1');
    assert.deepEqual(read.body, created.body);
    assert.equal((await api.put('/builds/b-1', build())).status, 200);
    for (const res of [created, read]) {
      const text = JSON.stringify(res.body);
      assert.equal(text.includes(SSH.password) || text.includes(VNC.password), false);
    }
  });

  test('builds: VM secrets are encrypted at rest', async () => {
    await api.put('/apps/app-1', { name: 'Mobile App' });
    await api.put('/builds/b-secret', build());
    const db = new Database(gw.databasePath, { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM builds WHERE id = ?').get('b-secret') as Record<string, unknown>;
      const text = JSON.stringify(row);
      assert.equal(text.includes(SSH.password), false);
      assert.equal(text.includes(VNC.password), false);
      assert.match(String(row['ssh_password_sealed']), /^v1\./);
    } finally {
      db.close();
    }
  });

  test('builds: finish closes the window after the grace period; late finishes never extend it', async () => {
    await api.put('/apps/app-1', { name: 'Mobile App' });
    await api.put('/builds/b-fin', build());
    const finished = await api.post('/builds/b-fin/finish', { finishedAt: '2026-11-27T10:30:00Z' });
    assert.equal(finished.status, 200);
    assert.equal(finished.body.status, 'finished');
    assert.equal(finished.body.window.closesAt, '2026-11-27T10:40:00.000Z');
    const late = await api.post('/builds/b-fin/finish', { finishedAt: '2026-11-27T11:30:00Z' });
    assert.equal(late.body.window.closesAt, '2026-11-27T10:40:00.000Z');
    const earlier = await api.post('/builds/b-fin/finish', { finishedAt: '2026-11-27T10:20:00Z' });
    assert.equal(earlier.body.window.closesAt, '2026-11-27T10:30:00.000Z', 'an earlier finish narrows the window');
    const rePut = await api.put('/builds/b-fin', build({ status: 'running' }));
    assert.equal(rePut.status, 409, 'an ended build cannot run again');
    assert.equal((await api.get('/builds/b-fin')).body.window.closesAt, '2026-11-27T10:30:00.000Z');
    const beforeStart = await api.post('/builds/b-fin/finish', { finishedAt: '2026-11-27T09:00:00Z' });
    assert.equal(beforeStart.status, 400);
    assert.match(beforeStart.body.error.message, /^finishedAt: must not be before startedAt/);
  });

  test('builds: finish without a body uses now; PUT with status finished closes at finishedAt + grace', async () => {
    await api.put('/apps/app-1', { name: 'Mobile App' });
    await api.put('/builds/b-now', build());
    const before = Date.now();
    const res = await api.post('/builds/b-now/finish');
    assert.equal(res.status, 200);
    const closes = Date.parse(res.body.window.closesAt as string);
    assert.ok(closes >= before + 10 * 60_000 && closes <= Date.now() + 10 * 60_000);
    const put = await api.put('/builds/b-put', build({ status: 'aborted', finishedAt: '2026-11-27T10:05:00Z' }));
    assert.equal(put.body.window.closesAt, '2026-11-27T10:15:00.000Z');
  });

  test('builds: revoke closes the window now', async () => {
    await api.put('/apps/app-1', { name: 'Mobile App' });
    await api.put('/builds/b-rev', build());
    const before = Date.now();
    const res = await api.post('/builds/b-rev/revoke');
    assert.equal(res.status, 200);
    const closes = Date.parse(res.body.window.closesAt as string);
    assert.ok(closes >= before && closes <= Date.now());
  });

  test('unknown ids are 404 on every build route', async () => {
    for (const res of [await api.get('/builds/ghost'), await api.post('/builds/ghost/finish'), await api.post('/builds/ghost/revoke')]) {
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'not_found');
    }
    const noApp = await api.put('/builds/b-x', build({ appId: 'ghost-app' }));
    assert.equal(noApp.status, 404);
    assert.match(noApp.body.error.message, /ghost-app/);
  });

  test('bad input: each invalid field is a 400 naming the field', async () => {
    await api.put('/apps/app-1', { name: 'Mobile App' });
    const ssh = (o: Record<string, unknown>): Record<string, unknown> => ({ remoteAccess: { ssh: { ...SSH, ...o } } });
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['vnc on linux', build({ stack: 'linux' }), /^remoteAccess\.vnc: is only available on macos builds/],
      ['stack', build({ stack: 'windows' }), /^stack: /],
      ['status', build({ status: 'queued' }), /^status: /],
      ['startedAt', build({ startedAt: 'yesterday' }), /^startedAt: must be an ISO-8601/],
      ['startedAt missing', build({ startedAt: undefined }), /^startedAt: is required/],
      ['finishedAt while running', build({ finishedAt: START }), /^finishedAt: is only allowed with status finished or aborted/],
      ['finishedAt before start', build({ status: 'finished', finishedAt: '2026-11-27T09:00:00Z' }), /^finishedAt: must not be before startedAt/],
      ['appId', build({ appId: 'a/b' }), /^appId: /],
      ['port', build(ssh({ port: 0 })), /^remoteAccess\.ssh\.port: /],
      ['port type', build(ssh({ port: '22' })), /^remoteAccess\.ssh\.port: /],
      ['host', build(ssh({ host: 'evil host;rm' })), /^remoteAccess\.ssh\.host: must be a host name or IP address/],
      ['username', build(ssh({ username: 'root; reboot' })), /^remoteAccess\.ssh\.username: /],
      ['hostKey', build(ssh({ hostKey: 'MD5:aa:bb' })), /^remoteAccess\.ssh\.hostKey: must be an SSH fingerprint/],
      ['privateKey', build(ssh({ password: undefined, privateKey: 'not a key' })), /^remoteAccess\.ssh\.privateKey: must be an unencrypted/],
      ['no credential', build(ssh({ password: undefined })), /^remoteAccess\.ssh: needs a password or a privateKey/],
      ['unknown field', build({ finshedAt: START }), /^finshedAt: unknown field/],
      ['vnc password', build({ remoteAccess: { ssh: SSH, vnc: { ...VNC, password: '' } } }), /^remoteAccess\.vnc\.password: /],
    ];
    for (const [name, body, pattern] of cases) {
      const res = await api.put('/builds/b-bad', body);
      assert.equal(res.status, 400, name);
      assert.equal(res.body.error.code, 'invalid_field', name);
      assert.match(res.body.error.message, pattern, name);
    }
    const userCases: [Record<string, unknown>, RegExp][] = [
      [{ email: 'not-an-email' }, /^email: /],
      [{}, /^email: is required/],
      [{ email: 'a@b.test', password: 'short' }, /^password: /],
      [{ email: 'a@b.test', role: 'admin' }, /^role: unknown field/],
    ];
    for (const [body, pattern] of userCases) {
      const res = await api.put('/users/u-bad', body);
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, pattern);
    }
    assert.equal((await api.put('/apps/app-1', { name: '' })).status, 400);
    assert.equal((await api.post('/builds/b-bad/finish', { finishedAt: 'soon' })).status, 400);
  });

  test('bad input: ids, JSON, media type and size', async () => {
    const badId = await api.put(`/users/${'x'.repeat(65)}`, { email: 'a@b.test' });
    assert.equal(badId.status, 400);
    assert.match(badId.body.error.message, /^userId: /);
    assert.equal((await api.put('/builds/a%2Fb', build())).body.error.message.startsWith('buildId: '), true);

    const auth = { Authorization: `Bearer ${gw.controlToken}` };
    const malformed = await request(gw.url).put('/api/v1/apps/app-1').set(auth).set('Content-Type', 'application/json').send('{"name": ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'invalid_json');

    const notObject = await request(gw.url).put('/api/v1/apps/app-1').set(auth).set('Content-Type', 'application/json').send('"just a string"');
    assert.equal(notObject.status, 400);

    const form = await request(gw.url).put('/api/v1/apps/app-1').set(auth).type('form').send('name=x');
    assert.equal(form.status, 415);
    assert.equal(form.body.error.code, 'unsupported_media_type');

    const huge = await request(gw.url)
      .put('/api/v1/apps/app-1')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(100 * 1024) }));
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');

    const typed = await api.put('/builds/b-typed', build({ remoteAccess: { ssh: { ...SSH, port: '22' } } }));
    assert.match(typed.body.error.message, /^remoteAccess\.ssh\.port: Invalid input: expected number, received string/);

    const noToken = await request(gw.url).put('/api/v1/apps/app-1').set('Content-Type', 'application/json').send('{"broken');
    assert.equal(noToken.status, 401, 'the token is checked before the body is parsed');

    const unknownRoute = await api.get('/nothing-here');
    assert.equal(unknownRoute.status, 404);
    assert.equal(unknownRoute.body.error.code, 'not_found');
  });
});

test('control API is off (503) without PORTHOLE_CONTROL_TOKEN', async (t) => {
  const gw = await startGateway({ PORTHOLE_CONTROL_TOKEN: '' });
  t.after(() => gw.close());
  const res = await request(gw.url).get('/api/v1/builds/b-1').set('Authorization', 'Bearer anything-at-all-here');
  assert.equal(res.status, 503);
  assert.equal(res.body.error.code, 'control_api_disabled');
});
