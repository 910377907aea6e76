import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import http from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { CLIENT_DIR, startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';

describe('pages and the Reveal API, per role', () => {
  let gw: TestGateway;
  let world: World;

  before(async () => {
    gw = await startGateway();
    world = await seedWorld(gw);
  });
  after(() => gw.close());

  test('anonymous visitors are sent to the login page', async () => {
    for (const path of ['/', '/builds/build-linux']) {
      const res = await request(gw.url).get(path);
      assert.equal(res.status, 303);
      assert.equal(res.get('Location'), `/login?next=${encodeURIComponent(path)}`);
    }
    const api = await request(gw.url).get('/api/v1/builds/build-linux/remote-access');
    assert.equal(api.status, 401);
    assert.equal(api.body.error.code, 'unauthenticated');
  });

  test('the build list shows only builds of the user\'s apps', async () => {
    const owner = await signIn(gw, world.users.owner);
    const mine = await owner.get('/');
    assert.equal(mine.status, 200);
    for (const id of ['build-linux', 'build-mac', 'build-old']) assert.match(mine.text, new RegExp(`href="/builds/${id}"`));
    assert.doesNotMatch(mine.text, /build-other/);
    const outsider = await signIn(gw, world.users.outsider);
    const theirs = await outsider.get('/');
    assert.match(theirs.text, /build-other/);
    assert.doesNotMatch(theirs.text, /build-linux/);
  });

  for (const role of ['owner', 'admin', 'developer'] as const) {
    test(`${role}: build page shows the buttons and instructions, never a password`, async () => {
      const agent = await signIn(gw, world.users[role]);
      const linux = await agent.get('/builds/build-linux');
      assert.equal(linux.status, 200);
      assert.match(linux.text, /Open terminal/);
      assert.doesNotMatch(linux.text, /Open screen/);
      assert.match(linux.text, /Remote Access Instructions/);
      assert.match(linux.text, /ssh -p 2222 /);
      assert.match(linux.text, /StrictHostKeyChecking=yes/);
      assert.doesNotMatch(linux.text, /StrictHostKeyChecking=no/);
      const mac = await agent.get('/builds/build-mac');
      assert.match(mac.text, /Open screen/);
      assert.match(mac.text, /vnc:\/\/127\.0\.0\.1:5901/);
      for (const page of [linux.text, mac.text]) {
        assert.equal(page.includes(world.vmSecrets.sshPassword), false);
        assert.equal(page.includes(world.vmSecrets.vncPassword), false);
      }
    });
  }

  test('owner: Reveal returns the VM passwords and is audited', async () => {
    const agent = await signIn(gw, world.users.owner);
    const res = await agent.get('/api/v1/builds/build-mac/remote-access');
    assert.equal(res.status, 200);
    assert.equal(res.get('Cache-Control'), 'no-store');
    assert.deepEqual(res.body, {
      ssh: { username: 'vagrant', password: world.vmSecrets.sshPassword, hasPrivateKey: false },
      vnc: { username: 'vagrant', password: world.vmSecrets.vncPassword },
    });
    const audit = gw.logs().find((l) => l['event'] === 'native_credentials_revealed' && l['buildId'] === 'build-mac');
    assert.ok(audit, 'the reveal is in the log');
    assert.equal(audit['userId'], 'user-owner');
    assert.equal(gw.rawLogs().includes(world.vmSecrets.sshPassword), false, 'but the password is not');
    const crossSite = await agent.get('/api/v1/builds/build-mac/remote-access').set('Sec-Fetch-Site', 'cross-site');
    assert.equal(crossSite.status, 403);
  });

  test('tester: refused with a clear message, no panel and no passwords', async () => {
    const agent = await signIn(gw, world.users.tester);
    const page = await agent.get('/builds/build-linux');
    assert.equal(page.status, 403);
    assert.match(page.text, /Your role on this app can(&#39;|')t use remote access/);
    assert.doesNotMatch(page.text, /Remote Access Instructions/);
    assert.doesNotMatch(page.text, /Open terminal/);
    assert.doesNotMatch(page.text, /ssh -p/);
    const api = await agent.get('/api/v1/builds/build-linux/remote-access');
    assert.equal(api.status, 403);
    assert.equal(api.body.error.code, 'role_forbidden');
    assert.equal(JSON.stringify(api.body).includes(world.vmSecrets.sshPassword), false);
  });

  test('non-member: 404, existence not leaked', async () => {
    const agent = await signIn(gw, world.users.outsider);
    for (const id of ['build-linux', 'no-such-build', 'bad%20id']) {
      const page = await agent.get(`/builds/${id}`);
      assert.equal(page.status, 404);
      assert.match(page.text, /Build not found/);
      const api = await agent.get(`/api/v1/builds/${id}/remote-access`);
      assert.equal(api.status, 404);
      assert.equal(api.body.error.code, 'not_found');
    }
  });

  test('closed window: the page (410) says so and Reveal is 410', async () => {
    const agent = await signIn(gw, world.users.developer);
    const page = await agent.get('/builds/build-old');
    assert.equal(page.status, 410);
    assert.match(page.text, /The access window has closed/);
    assert.doesNotMatch(page.text, /Remote Access Instructions/);
    const api = await agent.get('/api/v1/builds/build-old/remote-access');
    assert.equal(api.status, 410);
    assert.equal(api.body.error.code, 'window_closed');
  });

  test('the build list is a launcher: Terminal (and Screen on macOS) for who may connect, "not available" for testers, a countdown once closing', async () => {
    const developer = await (await signIn(gw, world.users.developer)).get('/');
    assert.match(developer.text, /<a class="button button-small" href="\/builds\/build-linux\/terminal">Terminal<\/a>/);
    assert.match(developer.text, /href="\/builds\/build-mac\/screen">Screen<\/a>/);
    assert.doesNotMatch(developer.text, /href="\/builds\/build-linux\/screen"/, 'no Screen on Linux');
    const tester = await (await signIn(gw, world.users.tester)).get('/');
    assert.match(tester.text, /not available for your role/);
    assert.doesNotMatch(tester.text, /\/terminal"/);
  });

  test("a running build's page says how long its window stays open after it ends (PORTHOLE_GRACE_MINUTES)", async () => {
    const agent = await signIn(gw, world.users.owner);
    const page = await agent.get('/builds/build-linux');
    assert.equal(page.status, 200);
    assert.match(page.text, /While the build runs, and for 10 minutes after it ends/);
  });

  test('a finished build shows a countdown from the server clock', async () => {
    await control(gw).post('/builds/build-linux/finish');
    const agent = await signIn(gw, world.users.owner);
    const page = await agent.get('/builds/build-linux');
    const remaining = /data-remaining-ms="(\d+)"/.exec(page.text);
    assert.ok(remaining?.[1]);
    const ms = Number(remaining[1]);
    assert.ok(ms > 9 * 60_000 && ms <= 10 * 60_000, String(ms));
    gw.setNow(new Date(Date.now() + 11 * 60_000));
    try {
      const later = await agent.get('/builds/build-linux');
      assert.match(later.text, /The access window has closed/);
    } finally {
      gw.setNow(null);
    }
  });

  test('orchestrator-supplied text is escaped', async () => {
    await control(gw).put('/apps/app-1', { name: '<img src=x onerror=alert(1)>' });
    const agent = await signIn(gw, world.users.owner);
    const page = await agent.get('/builds/build-mac');
    assert.doesNotMatch(page.text, /<img src=x/);
    assert.match(page.text, /&lt;img src=x onerror=alert\(1\)&gt;/);
    await control(gw).put('/apps/app-1', { name: 'Mobile App' });
  });

  test('security headers: strict CSP without unsafe-inline, no framing, no inline scripts', async () => {
    const agent = await signIn(gw, world.users.owner);
    for (const path of ['/login', '/', '/builds/build-mac', '/nowhere']) {
      const res = await agent.get(path);
      const csp = res.get('Content-Security-Policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(res.get('X-Frame-Options'), 'DENY');
      assert.equal(res.get('X-Content-Type-Options'), 'nosniff');
      assert.equal(res.get('X-Powered-By'), undefined);
      assert.equal(res.get('Referrer-Policy'), 'same-origin');
      assert.doesNotMatch(res.text, /<script(?![^>]*\bsrc=)[^>]*>/, `${path} has no inline script`);
      assert.doesNotMatch(res.text, /\son[a-z]+="/, `${path} has no inline handlers`);
    }
  });
});

test('assets are sent brotli or gzip compressed as the browser accepts, precompressed, and vary by Accept-Encoding (issue #21)', async (t) => {
  const gw = await startGateway();
  t.after(() => gw.close());
  // The largest script (xterm.js's chunk, say): tiny entries are below the compression threshold.
  const assets = join(CLIENT_DIR, 'assets');
  const largest = readdirSync(assets)
    .filter((name) => name.endsWith('.js'))
    .sort((a, b) => statSync(join(assets, b)).size - statSync(join(assets, a)).size)[0];
  assert.ok(largest);
  const script = `/assets/${largest}`;
  const original = readFileSync(join(assets, largest));
  const fetchRaw = (acceptEncoding: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      // node:http, not fetch: fetch would decode the body and hide what was sent.
      http.get(`${gw.url}${script}`, { headers: { 'Accept-Encoding': acceptEncoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }).on('error', reject);
    });
  const br = await fetchRaw('gzip, deflate, br');
  assert.equal(br.status, 200);
  assert.equal(br.headers['content-encoding'], 'br');
  assert.match(String(br.headers['vary']), /Accept-Encoding/i);
  assert.match(String(br.headers['content-type']), /javascript/);
  assert.match(String(br.headers['cache-control']), /immutable/);
  assert.ok(brotliDecompressSync(br.body).equals(original));
  assert.ok(br.body.length < original.length / 2, 'smaller by more than half');
  const gz = await fetchRaw('gzip');
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(gz.body).equals(original));
  const plain = await fetchRaw('identity');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.body.equals(original));
});

test('a missing asset is a plain 404', async (t) => {
  const gw = await startGateway();
  t.after(() => gw.close());
  const res = await request(gw.url).get('/assets/nope.js');
  assert.equal(res.status, 404);
  assert.equal(gw.logs().some((l) => l['level'] === 50), false, 'not logged as an error');
});

test('with PORTHOLE_SHOW_NATIVE_CREDENTIALS=false nothing reveals VM passwords', async (t) => {
  const gw = await startGateway({ PORTHOLE_SHOW_NATIVE_CREDENTIALS: 'false' });
  t.after(() => gw.close());
  const world = await seedWorld(gw);
  const agent = await signIn(gw, world.users.owner);
  const page = await agent.get('/builds/build-mac');
  assert.match(page.text, /does not show VM passwords/);
  assert.doesNotMatch(page.text, /data-reveal=/);
  const api = await agent.get('/api/v1/builds/build-mac/remote-access');
  assert.equal(api.status, 403);
  assert.equal(api.body.error.code, 'credentials_hidden');
});

test('https public URL: Secure __Host- cookie and HSTS', async (t) => {
  const gw = await startGateway({ PORTHOLE_PUBLIC_URL: 'https://porthole.example.test', PORTHOLE_TRUST_PROXY: 'true' });
  t.after(() => gw.close());
  const world = await seedWorld(gw);
  const res = await request(gw.url)
    .post('/auth/login')
    .set('Origin', 'https://porthole.example.test')
    .set('X-Forwarded-Proto', 'https')
    .send({ email: world.users.owner.email, password: world.users.owner.password });
  assert.equal(res.status, 204);
  const cookie = (res.get('Set-Cookie') ?? []).join(';');
  assert.match(cookie, /^__Host-porthole\.sid=/);
  assert.match(cookie, /Secure/);
  assert.match(res.get('Strict-Transport-Security') ?? '', /max-age=31536000/);
});
