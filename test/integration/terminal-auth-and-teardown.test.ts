/** Key and keyboard-interactive logins, teardown of the VM's shell, and browsers that stop reading. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket, type TerminalClient } from '../helpers/terminal-client.js';
import { pollUntil } from '../helpers/ports.js';
import { isProcessRunning } from '../helpers/daemon.js';

/** Long enough for the flood to fill every buffer, short enough to keep the test quick. */
const SHORT_STALL_TIMEOUT_MS = 2_000;
/** sshd reaps a hung-up session's processes promptly; this only bounds a broken teardown. */
const SHELL_EXIT_TIMEOUT_MS = 10_000;

describe('terminal logins and teardown', () => {
  let sshd: SshdHandle;
  let kbdSshd: SshdHandle;
  let gw: TestGateway;
  let world: World;

  before(async () => {
    [sshd, kbdSshd] = await Promise.all([startSshd(), startSshd({ keyboardInteractive: true, passwordAuthentication: false })]);
    gw = await startGateway({}, { terminalStallTimeoutMs: SHORT_STALL_TIMEOUT_MS });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  });
  after(async () => {
    await gw.close();
    await Promise.all([sshd.stop(), kbdSshd.stop()]);
  });

  async function terminal(buildId: string, options: { ack?: boolean } = {}): Promise<TerminalClient> {
    const agent = await signIn(gw, world.users.owner);
    return connectTerminal(await mintTicket(gw, agent, buildId), gw, options);
  }

  test('private key login', async () => {
    const key = sshd.keyUser;
    await registerLinuxBuild(gw, 'build-key', { host: sshd.host, port: sshd.port, username: key.username, privateKey: key.privateKey, hostKey: sshd.hostKeyFingerprint });
    const t = await terminal('build-key');
    await t.waitForControl('ready');
    t.type('echo "user=$(id -un)"\r');
    await t.waitForOutput(new RegExp(`[\\r\\n]user=${key.username}\\r\\n`));
    t.close();
  });

  test('keyboard-interactive login answered with the password', async () => {
    const pw = kbdSshd.passwordUser;
    assert.ok(pw?.password);
    await registerLinuxBuild(gw, 'build-kbd', { host: kbdSshd.host, port: kbdSshd.port, username: pw.username, password: pw.password, hostKey: kbdSshd.hostKeyFingerprint });
    const t = await terminal('build-kbd');
    await t.waitForControl('ready');
    t.type('echo kbd-$((1+1))\r');
    await t.waitForOutput(/[\r\n]kbd-2\r\n/);
    t.close();
  });

  test('closing the browser side ends the shell process on the VM', async () => {
    const t = await terminal(world.builds.linuxRunning);
    await t.waitForControl('ready');
    t.type('echo "pid=$$"\r');
    const match = await t.waitForOutput(/[\r\n]pid=(\d+)\r\n/);
    const pid = match[1];
    assert.ok(pid && existsSync(`/proc/${pid}`), 'the shell runs');
    t.close();
    const closedAt = Date.now();
    await pollUntil('shell exit', SHELL_EXIT_TIMEOUT_MS, async () => !isProcessRunning(pid));
    console.log(`shell gone ${Date.now() - closedAt} ms after the browser closed`);
    await pollUntil('connection unregistered', SHELL_EXIT_TIMEOUT_MS, async () => gw.enforcer.size === 0);
    assert.ok(gw.logs().some((l) => l['event'] === 'connection_closed' && l['closeCode'] === 1000));
  });

  test('a browser that stops reading is paused, then closed with 4006; the VM is not', async () => {
    const t = await terminal(world.builds.linuxRunning, { ack: false });
    await t.waitForControl('ready');
    t.type('yes porthole-stall\r');
    const closed = await t.closed;
    assert.equal(closed.code, 4006);
    const bytes = t.outputBytes().length;
    // Paused at the high mark: what arrived is the unacked allowance plus what was already in flight.
    assert.ok(bytes < 8 * 1024 * 1024, `only ${bytes} bytes were sent before the pause`);
    const summary = gw.logs().find((l) => l['event'] === 'connection_closed' && l['closeCode'] === 4006);
    assert.ok(summary);
    assert.ok(Number(summary['pauses']) >= 1);
    const healthy = await terminal(world.builds.linuxRunning);
    healthy.type('echo vm-fine\r');
    await healthy.waitForOutput(/[\r\n]vm-fine\r\n/);
    healthy.close();
  });
});
