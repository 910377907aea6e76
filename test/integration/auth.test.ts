import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, signIn, type World } from '../helpers/seed.js';

function sessionCookie(res: request.Response): string | null {
  const cookies = res.get('Set-Cookie') ?? [];
  const found = cookies.find((c) => c.startsWith('porthole.sid='));
  return found ? (found.split(';')[0] ?? null) : null;
}

describe('login and logout', () => {
  let gw: TestGateway;
  let world: World;

  before(async () => {
    gw = await startGateway();
    world = await seedWorld(gw);
  });
  after(() => gw.close());

  test('GET /login renders the form', async () => {
    const res = await request(gw.url).get('/login?next=/builds/build-linux');
    assert.equal(res.status, 200);
    assert.match(res.text, /<form method="post" action="\/auth\/login"/);
    assert.match(res.text, /name="next" value="\/builds\/build-linux"/);
  });

  test('form login: 303 to the next page, with an HttpOnly SameSite=Lax cookie', async () => {
    const { owner } = world.users;
    const res = await request(gw.url)
      .post('/auth/login')
      .set('Origin', gw.origin)
      .type('form')
      .send({ email: owner.email, password: owner.password, next: '/builds/build-linux' });
    assert.equal(res.status, 303);
    assert.equal(res.get('Location'), '/builds/build-linux');
    const cookie = (res.get('Set-Cookie') ?? []).join(';');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/);
  });

  test('form login refuses open redirects', async () => {
    const { owner } = world.users;
    const res = await request(gw.url).post('/auth/login').set('Origin', gw.origin).type('form').send({ email: owner.email, password: owner.password, next: '//evil.example/' });
    assert.equal(res.status, 303);
    assert.equal(res.get('Location'), '/');
  });

  test('JSON login: 204; emails match case-insensitively', async () => {
    const { developer } = world.users;
    const res = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: developer.email.toUpperCase(), password: developer.password });
    assert.equal(res.status, 204);
    assert.ok(sessionCookie(res));
  });

  test('bad credentials: 401 for JSON and for the form, same answer for unknown emails', async () => {
    const { owner } = world.users;
    for (const email of [owner.email, 'nobody@example.test']) {
      const json = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email, password: 'wrong password' });
      assert.equal(json.status, 401);
      assert.deepEqual(json.body, { error: { code: 'invalid_credentials', message: 'Wrong email or password.' } });
      const form = await request(gw.url).post('/auth/login').set('Origin', gw.origin).type('form').send({ email, password: 'wrong password' });
      assert.equal(form.status, 401);
      assert.match(form.text, /Wrong email or password/);
      assert.equal(sessionCookie(form), null);
    }
    const missing = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: owner.email });
    assert.equal(missing.status, 400);
  });

  test('a failed login is logged without the password', async () => {
    await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: 'someone@example.test', password: 'distinctive-wrong-pw' });
    // Logged with the count of its window, when the window ends (here: at the flush).
    await gw.app.audit.flush();
    assert.ok(gw.logs().some((l) => l['event'] === 'login_failed' && l['email'] === 'someone@example.test'));
    assert.equal(gw.rawLogs().includes('distinctive-wrong-pw'), false);
  });

  test('CSRF: state-changing routes need our own Origin (or same-origin Sec-Fetch-Site)', async () => {
    const { owner } = world.users;
    const body = { email: owner.email, password: owner.password };
    const refused = [
      request(gw.url).post('/auth/login').send(body),
      request(gw.url).post('/auth/login').set('Origin', 'http://evil.example').send(body),
      request(gw.url).post('/auth/login').set('Origin', 'null').send(body),
      request(gw.url).post('/auth/login').set('Origin', gw.origin.replace('127.0.0.1', 'localhost')).send(body),
      request(gw.url).post('/auth/login').set('Sec-Fetch-Site', 'cross-site').send(body),
      request(gw.url).post('/auth/login').set('Sec-Fetch-Site', 'same-site').send(body),
      request(gw.url).post('/auth/logout').set('Origin', 'http://evil.example').set('Accept', 'application/json'),
    ];
    for (const pending of refused) {
      const res = await pending;
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'forbidden_origin');
    }
    const viaFetchMetadata = await request(gw.url).post('/auth/login').set('Sec-Fetch-Site', 'same-origin').send(body);
    assert.equal(viaFetchMetadata.status, 204);
  });

  test('session fixation: the session id changes at login and the old one is dead', async () => {
    const { owner, developer } = world.users;
    const first = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: developer.email, password: developer.password });
    const planted = sessionCookie(first);
    assert.ok(planted);
    const second = await request(gw.url).post('/auth/login').set('Origin', gw.origin).set('Cookie', planted).send({ email: owner.email, password: owner.password });
    const fresh = sessionCookie(second);
    assert.ok(fresh);
    assert.notEqual(fresh, planted);
    const withOld = await request(gw.url).get('/').set('Cookie', planted);
    assert.equal(withOld.status, 303, 'the pre-login session no longer signs anyone in');
    const withNew = await request(gw.url).get('/').set('Cookie', fresh);
    assert.equal(withNew.status, 200);
    assert.match(withNew.text, /user-owner/);
  });

  test('logout ends the session', async () => {
    const agent = await signIn(gw, world.users.admin);
    assert.equal((await agent.get('/')).status, 200);
    const res = await agent.post('/auth/logout').set('Origin', gw.origin).type('form').send({});
    assert.equal(res.status, 303);
    assert.equal(res.get('Location'), '/login');
    const after = await agent.get('/');
    assert.equal(after.status, 303);
    assert.match(after.get('Location') ?? '', /^\/login\?next=%2F$/);
  });

  test('signed-in users are sent on from /login', async () => {
    const agent = await signIn(gw, world.users.developer);
    const login = await agent.get('/login?next=/builds/build-linux');
    assert.equal(login.status, 303);
    assert.equal(login.get('Location'), '/builds/build-linux');
  });
});

test('failed logins are rate-limited per account', async (t) => {
  const gw = await startGateway();
  t.after(() => gw.close());
  const world = await seedWorld(gw);
  const { tester } = world.users;
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const res = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: tester.email, password: `wrong-${i}` });
    statuses.push(res.status);
  }
  assert.deepEqual(statuses.slice(0, 10), Array<number>(10).fill(401));
  assert.equal(statuses[10], 429);
  const limited = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: tester.email, password: tester.password });
  assert.equal(limited.status, 429, 'even the right password waits out the limit');
  assert.equal(limited.body.error.code, 'rate_limited');
  const otherAccount = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: world.users.owner.email, password: world.users.owner.password });
  assert.equal(otherAccount.status, 204);
});
