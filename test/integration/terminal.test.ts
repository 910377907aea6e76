/** The in-page terminal's server side against a real OpenSSH sshd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { spyDialer, type SpyDialer } from '../helpers/spy-dialer.js';
import { connectTerminal, mintTicket, UpgradeRefused, type TerminalClient } from '../helpers/terminal-client.js';
import { VM_HOST_KEY_CHANGED, VM_LOGIN_REFUSED } from '../../server/src/protocols/ssh/vm-failure.js';

describe('terminal over a real sshd', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let dialer: SpyDialer;
  const open: TerminalClient[] = [];

  before(async () => {
    sshd = await startSshd();
    dialer = spyDialer();
    gw = await startGateway({}, { dialer });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  });
  after(async () => {
    for (const c of open) c.close();
    await gw.close();
    await sshd.stop();
  });

  async function terminal(buildId = world.builds.linuxRunning, size = { cols: 120, rows: 40 }): Promise<TerminalClient> {
    const agent = await signIn(gw, world.users.developer);
    const client = await connectTerminal(await mintTicket(gw, agent, buildId), gw, { size });
    open.push(client);
    return client;
  }

  test('password login: a shell that computes', async () => {
    const t = await terminal();
    const ready = await t.waitForControl('ready');
    assert.ok(ready.type === 'ready' && /^[0-9a-f]{16}$/.test(ready.sessionId), JSON.stringify(ready));
    assert.deepEqual(ready, { type: 'ready', hostKey: sshd.hostKeyFingerprint, sessionId: ready.sessionId, resumeSeconds: 300, mode: 'drive', recorded: false });
    const window = await t.waitForControl('window');
    assert.deepEqual(window, { type: 'window', closesAt: null, remainingMs: null });
    t.type('echo $((6*7))\r');
    await t.waitForOutput(/[\r\n]42\r\n/);
    t.close();
    assert.equal((await t.closed).code, 1000);
  });

  test('the ticket answer names the endpoint, never the VM', async () => {
    const agent = await signIn(gw, world.users.owner);
    const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
    assert.equal(ticket.protocol, 'porthole.ssh.v1');
    assert.equal(ticket.url, `${gw.url.replace('http:', 'ws:')}/ws/ssh?build=build-linux`);
    assert.ok(Buffer.from(ticket.ticket, 'base64url').length >= 16, 'at least 128 random bits');
    const lifetime = Date.parse(ticket.expiresAt) - Date.now();
    assert.ok(lifetime > 25_000 && lifetime <= 30_000, String(lifetime));
    const text = JSON.stringify(ticket);
    assert.equal(text.includes(String(sshd.port)), false);
    assert.equal(text.includes(world.vmSecrets.sshPassword), false);
  });

  test('stty size follows the first size and later resizes', async () => {
    const t = await terminal(world.builds.linuxRunning, { cols: 100, rows: 30 });
    await t.waitForControl('ready');
    t.type('stty size\r');
    await t.waitForOutput(/[\r\n]30 100\r\n/);
    const mark = t.output().length;
    t.resize(132, 43);
    t.type('stty size\r');
    await t.waitForOutput(/[\r\n]43 132\r\n/, mark);
    const clampMark = t.output().length;
    t.resize(5000, 0);
    t.type('stty size\r');
    await t.waitForOutput(/[\r\n]1 1000\r\n/, clampMark);
  });

  test('every byte value and UTF-8 pass intact in both directions', async () => {
    const t = await terminal();
    await t.waitForControl('ready');
    // Raw mode: the PTY neither translates nor interprets anything in either direction.
    t.type("stty raw -echo -iexten; echo READY\r");
    await t.waitForOutput(/READY/);
    let mark = t.outputBytes().length;
    const octal = Array.from({ length: 256 }, (_, i) => `\\${i.toString(8).padStart(3, '0')}`).join('');
    t.type(`printf 'BEGIN${octal}END'\r`);
    // readline echoes the command itself (as text); the real output ends in byte 0xff then END.
    await t.waitForOutput(/\xffEND/, 0);
    const out = t.outputBytes().subarray(mark);
    const end = out.lastIndexOf('\xffEND', undefined, 'latin1') + 1;
    const begin = out.lastIndexOf('BEGIN', end);
    const bytes = out.subarray(begin + 5, end);
    assert.deepEqual([...bytes], Array.from({ length: 256 }, (_, i) => i), 'output bytes 0x00-0xff');

    mark = t.output().length;
    // The bytes go out only once head is reading, so readline never sees them.
    t.type("stty raw -echo -iexten; echo GO; head -c 256 | od -An -tx1 -v | tr -d ' \\n'; echo; echo DONE\r");
    await t.waitForOutput(/GO\r?\n/, mark);
    t.type(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    const hex = await t.waitForOutput(/([0-9a-f]{512})/, mark);
    assert.equal(hex[1], Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex'), 'input bytes 0x00-0xff');
    await t.waitForOutput(/DONE/, mark);

    t.type('stty sane; echo "héllo ✓ 🔑 日本"\r');
    const utf8 = Buffer.from('héllo ✓ 🔑 日本', 'utf8').toString('latin1');
    await t.waitForOutput(new RegExp(`\\n${utf8.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r\\n`));
  });

  test('the shell ending closes the WebSocket with 4005', async () => {
    const t = await terminal();
    await t.waitForControl('ready');
    t.type('exit\r');
    const closed = await t.closed;
    assert.equal(closed.code, 4005);
  });

  test('a wrong VM password closes with 4004 and a clear message', async () => {
    await registerLinuxBuild(gw, 'build-wrong-pw', { ...passwordEndpoint(sshd), password: 'not-the-password' });
    const t = await terminal('build-wrong-pw');
    const closed = await t.closed;
    assert.equal(closed.code, 4004);
    assert.match(closed.reason, /refused the login/);
    assert.deepEqual(t.controls.find((c) => c.type === 'error'), { type: 'error', code: 'vm_login_refused', message: VM_LOGIN_REFUSED });
  });

  test('a host key other than the registered one closes with 4004 and is logged', async () => {
    await registerLinuxBuild(gw, 'build-bad-key', { ...passwordEndpoint(sshd), hostKey: 'SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM' });
    const t = await terminal('build-bad-key');
    const closed = await t.closed;
    assert.equal(closed.code, 4004);
    assert.match(closed.reason, /host key changed/);
    assert.deepEqual(t.controls.find((c) => c.type === 'error'), { type: 'error', code: 'vm_host_key_changed', message: VM_HOST_KEY_CHANGED });
    assert.ok(gw.logs().some((l) => l['event'] === 'host_key_mismatch' && l['buildId'] === 'build-bad-key'));
    assert.equal(t.output().length, 0, 'no byte from the impostor reached the browser');
  });

  test('without a registered host key the first one is pinned for the build', async () => {
    const { hostKey: _registered, ...withoutHostKey } = passwordEndpoint(sshd);
    await registerLinuxBuild(gw, 'build-tofu', withoutHostKey);
    const first = await terminal('build-tofu');
    const ready = await first.waitForControl('ready');
    assert.equal(ready.type === 'ready' ? ready.hostKey : null, sshd.hostKeyFingerprint);
    assert.equal((await gw.store.getBuild('build-tofu' as never))?.ssh.pinnedHostKey, sshd.hostKeyFingerprint);
    assert.ok(gw.logs().some((l) => l['event'] === 'host_key_pinned' && l['buildId'] === 'build-tofu'));
    first.close();
  });

  test('invalid control messages get a protocol error, never a crash', async () => {
    for (const bad of ['not json', '{"type":"resize","cols":"80","rows":24}', '{"type":"ack","bytes":-1}', '{"type":"boom"}', '[]', `{"type":"resize","cols":1e400,"rows":1}`, '{"__proto__":{"type":"ack"}}']) {
      const t = await terminal();
      await t.waitForControl('ready');
      t.ws.send(bad);
      const closed = await t.closed;
      assert.equal(closed.code, 1008, bad);
      assert.equal(t.controls.some((c) => c.type === 'error'), true);
    }
    const healthy = await terminal();
    healthy.type('echo still-alive\r');
    await healthy.waitForOutput(/[\r\n]still-alive\r\n/);
  });

  describe('refusals happen before the upgrade and dial nothing', () => {
    async function refused(attempt: () => Promise<TerminalClient>): Promise<UpgradeRefused> {
      const before = dialer.dials.length;
      try {
        const client = await attempt();
        client.close();
        assert.fail('the upgrade should have been refused');
      } catch (error) {
        assert.ok(error instanceof UpgradeRefused, String(error));
        assert.equal(dialer.dials.length, before, 'no upstream dial');
        return error;
      }
    }

    test('replayed ticket', async () => {
      const agent = await signIn(gw, world.users.developer);
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      const first = await connectTerminal(ticket, gw);
      open.push(first);
      await first.waitForControl('ready');
      const error = await refused(() => connectTerminal(ticket, gw));
      assert.equal(error.status, 401);
      assert.match(error.body, /"invalid_ticket"/);
    });

    test('expired ticket', async () => {
      const agent = await signIn(gw, world.users.developer);
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      gw.setNow(new Date(Date.now() + 31_000));
      try {
        const error = await refused(() => connectTerminal(ticket, gw));
        assert.equal(error.status, 401);
        assert.match(error.body, /expired/);
      } finally {
        gw.setNow(null);
      }
    });

    test("another user's ticket (the session belongs to someone else)", async () => {
      const owner = await signIn(gw, world.users.owner);
      const ticket = await mintTicket(gw, owner, world.builds.linuxRunning);
      const developer = await signIn(gw, world.users.developer);
      const cookie = (await developer.get('/')).request.cookies;
      const error = await refused(() => connectTerminal(ticket, gw, { headers: { Cookie: cookie } }));
      assert.equal(error.status, 401);
    });

    test("another build's ticket", async () => {
      const agent = await signIn(gw, world.users.owner);
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      const error = await refused(() => connectTerminal({ ...ticket, url: ticket.url.replace('build-linux', 'build-mac') }, gw));
      assert.equal(error.status, 401);
    });

    test("another kind's endpoint", async () => {
      const agent = await signIn(gw, world.users.owner);
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      // The screen endpoint wants the `binary` subprotocol; with it, the ssh ticket is still refused.
      const error = await refused(() => connectTerminal({ ...ticket, url: ticket.url.replace('/ws/ssh', '/ws/vnc') }, gw));
      assert.equal(error.status, 400);
      const withBinary = await refused(() => connectTerminal({ ...ticket, url: ticket.url.replace('/ws/ssh', '/ws/vnc'), protocol: 'binary' }, gw));
      assert.equal(withBinary.status, 401);
    });

    test('wrong, missing and look-alike Origins', async () => {
      const agent = await signIn(gw, world.users.owner);
      for (const origin of ['http://evil.example', 'null', gw.origin.replace('127.0.0.1', 'localhost'), `${gw.origin}.evil.example`, gw.origin.replace('http:', 'https:')]) {
        const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
        const error = await refused(() => connectTerminal(ticket, gw, { origin }));
        assert.equal(error.status, 403, origin);
        assert.match(error.body, /forbidden_origin/);
      }
    });

    test('a missing ticket or subprotocol', async () => {
      const agent = await signIn(gw, world.users.owner);
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      assert.equal((await refused(() => connectTerminal({ ...ticket, ticket: '' }, gw))).status, 401);
      assert.equal((await refused(() => connectTerminal({ ...ticket, protocol: 'porthole.other.v9' }, gw))).status, 400);
    });

    test('tester and closed window are refused at mint and at upgrade', async () => {
      const tester = await signIn(gw, world.users.tester);
      const mint = await tester.post('/api/v1/builds/build-linux/connections').set('Origin', gw.origin).send({ kind: 'ssh' });
      assert.equal(mint.status, 403);
      assert.equal(mint.body.error.code, 'role_forbidden');
      const closedMint = await (await signIn(gw, world.users.owner)).post('/api/v1/builds/build-old/connections').set('Origin', gw.origin).send({ kind: 'ssh' });
      assert.equal(closedMint.status, 410);

      // Minted while allowed, then the role changed: the upgrade checks again.
      const developer = await signIn(gw, world.users.developer);
      const ticket = await mintTicket(gw, developer, world.builds.linuxRunning);
      await control(gw).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'tester' });
      try {
        const error = await refused(() => connectTerminal(ticket, gw));
        assert.equal(error.status, 403);
        assert.match(error.body, /role_forbidden/);
      } finally {
        await control(gw).put(`/apps/app-1/members/${world.users.developer.id}`, { role: 'developer' });
      }

      const revokedTicket = await mintTicket(gw, developer, world.builds.macRunning);
      await control(gw).post(`/builds/${world.builds.macRunning}/revoke`);
      const error = await refused(() => connectTerminal(revokedTicket, gw));
      assert.equal(error.status, 410);
    });

    test('tickets are never logged', async () => {
      const agent = await signIn(gw, world.users.owner);
      const ticket = await mintTicket(gw, agent, world.builds.linuxRunning);
      await refused(() => connectTerminal(ticket, gw, { origin: 'http://evil.example' }));
      assert.equal(gw.rawLogs().includes(ticket.ticket), false);
      assert.equal(gw.rawLogs().includes(world.vmSecrets.sshPassword), false);
    });
  });

  test('mint: CSRF and bad kinds', async () => {
    const agent = await signIn(gw, world.users.owner);
    const noOrigin = await agent.post('/api/v1/builds/build-linux/connections').send({ kind: 'ssh' });
    assert.equal(noOrigin.status, 403);
    const badKind = await agent.post('/api/v1/builds/build-linux/connections').set('Origin', gw.origin).send({ kind: 'rdp', host: '10.0.0.1' });
    assert.equal(badKind.status, 400);
    assert.match(badKind.body.error.message, /^kind: /);
    const anonymous = await (await import('supertest')).default(gw.url).post('/api/v1/builds/build-linux/connections').set('Origin', gw.origin).send({ kind: 'ssh' });
    assert.equal(anonymous.status, 401);
  });
});
