/**
 * The logs of a full run, at the most verbose level: every line is JSON with a request id, and no
 * registered secret, ticket, token or cookie appears anywhere in them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, UpgradeRefused, type Ticket } from '../helpers/terminal-client.js';
import { scrapeMetrics, waitForAudit } from '../helpers/ops.js';

const METRICS_TOKEN = 'metrics-token-for-the-log-test';
const TYPED_IN_TERMINAL = 'terminal-content-never-logged';
const WRONG_PASSWORD = 'a-wrong-password-typed-at-sign-in';

describe('logs of a full run', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway({ PORTHOLE_LOG_LEVEL: 'trace', PORTHOLE_METRICS_TOKEN: METRICS_TOKEN, PORTHOLE_RECORD_ALL: 'true' });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  });
  after(async () => {
    await gw.close();
    await sshd.stop();
  });

  test('sign-ins, reveals, tickets, terminals (password and key), refusals, scrapes and audit queries leak nothing', async () => {
    const secrets = new Map<string, string>();
    for (const [role, user] of Object.entries(world.users)) secrets.set(`${role} login password`, user.password);
    secrets.set('VM ssh password', world.vmSecrets.sshPassword);
    secrets.set('VM vnc password', world.vmSecrets.vncPassword);
    secrets.set('control token', gw.controlToken);
    secrets.set('metrics token', METRICS_TOKEN);
    secrets.set('session secret', gw.config.sessionSecret);
    secrets.set('secret key', gw.config.secretKey.toString('hex'));
    secrets.set('wrong password', WRONG_PASSWORD);
    secrets.set('terminal input', TYPED_IN_TERMINAL);
    const key = sshd.keyUser.privateKey ?? '';
    secrets.set('VM private key', key);
    // Any one line of the key's body would be a leak too.
    for (const [i, line] of key.split('\n').entries()) if (line.length > 20 && !line.startsWith('-----')) secrets.set(`VM private key line ${i}`, line);

    await registerLinuxBuild(gw, 'build-key', { host: sshd.host, port: sshd.port, username: sshd.keyUser.username, privateKey: key, hostKey: sshd.hostKeyFingerprint });

    const { owner, developer } = world.users;
    assert.equal((await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: owner.email, password: WRONG_PASSWORD })).status, 401);
    const login = await request(gw.url).post('/auth/login').set('Origin', gw.origin).send({ email: developer.email, password: developer.password });
    assert.equal(login.status, 204);
    const cookie = (login.get('Set-Cookie') ?? [])[0]?.split(';')[0] ?? '';
    const cookieValue = cookie.slice(cookie.indexOf('=') + 1);
    assert.ok(cookieValue.length > 20);
    secrets.set('session cookie', cookieValue);
    secrets.set('session id', decodeURIComponent(cookieValue).slice(2).split('.')[0] ?? '');

    const ownerAgent = await signIn(gw, owner);
    const revealed = await ownerAgent.get('/api/v1/builds/build-mac/remote-access');
    assert.equal(revealed.body.ssh.password, world.vmSecrets.sshPassword);

    const agent = await signIn(gw, developer);
    const tickets: Ticket[] = [];
    for (const buildId of ['build-linux', 'build-key']) {
      const ticket = await mintTicket(gw, agent, buildId);
      tickets.push(ticket);
      const t = await connectTerminal(ticket, gw);
      await t.waitForControl('ready');
      t.type(`stty -echo; echo ECHO-OFF; read -r x; stty echo; echo "len-\${#x}"\r`);
      await t.waitForOutput(/[\r\n]ECHO-OFF\r\n/);
      t.type(`${TYPED_IN_TERMINAL}\r`);
      await t.waitForOutput(/[\r\n]len-29\r\n/);
      await assert.rejects(connectTerminal(ticket, gw), UpgradeRefused, 'a used ticket is refused (and logged)');
      t.ws.close(1000);
      await t.closed;
    }
    const stray = await mintTicket(gw, agent, 'build-linux');
    tickets.push(stray);
    await assert.rejects(connectTerminal(stray, gw, { origin: 'https://evil.example' }), UpgradeRefused);
    for (const [i, ticket] of tickets.entries()) secrets.set(`ticket ${i}`, ticket.ticket);

    await scrapeMetrics(gw, METRICS_TOKEN);
    await control(gw).get('/audit?limit=5');
    await control(gw).post('/builds/build-key/revoke');
    await agent.post('/auth/logout').set('Origin', gw.origin).send({});
    await waitForAudit(gw, (e) => e.event === 'connection_closed', { buildId: 'build-key' });
    // Refusals without a user are logged per client address and window: end the windows now.
    await gw.app.audit.flush();

    const raw = gw.rawLogs();
    assert.ok(raw.length > 10_000, `a verbose run (${raw.length} characters of logs)`);
    for (const [what, secret] of secrets) {
      assert.ok(secret.length >= 8, `${what} is a meaningful probe`);
      assert.equal(raw.includes(secret), false, `the ${what} appears in the logs`);
    }
    const lines = gw.logs();
    assert.ok(lines.some((l) => l['msg'] === 'request completed'), 'an access log line per request');
    assert.ok(lines.some((l) => l['event'] === 'ticket_refused'));
    assert.ok(lines.some((l) => l['event'] === 'recording_finished'));
    const unredacted = lines.filter((l) => JSON.stringify(l).includes('porthole.ticket.'));
    assert.deepEqual(unredacted, [], 'the ticket subprotocol header is never logged');
  });

  test('every line carries the id of the request or upgrade it belongs to, echoed in X-Request-Id', async () => {
    const lines = gw.logs();
    const missing = lines.filter((l) => typeof l['reqId'] !== 'string');
    assert.deepEqual(missing, [], 'lines without a request id');

    const res = await request(gw.url).get('/login').set('X-Request-Id', 'forged-by-the-client');
    const id = res.get('X-Request-Id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/, 'a client cannot choose its id unless the proxy is trusted');
    const access = gw.logs().find((l) => l['msg'] === 'request completed' && l['reqId'] === id);
    assert.ok(access, 'the access line has the id the response carries');

    const proxied = await startGateway({ PORTHOLE_TRUST_PROXY: 'true' });
    try {
      assert.equal((await request(proxied.url).get('/login').set('X-Request-Id', 'lb-7f3a.42')).get('X-Request-Id'), 'lb-7f3a.42');
      const odd = (await request(proxied.url).get('/login').set('X-Request-Id', 'two words\u00e9')).get('X-Request-Id') ?? '';
      assert.match(odd, /^[0-9a-f-]{36}$/, 'a malformed forwarded id is replaced');
    } finally {
      await proxied.close();
    }
  });
});
