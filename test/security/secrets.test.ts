/**
 * After a full run through the product — sign-in, build pages, terminals by password and by key,
 * a screen, refusals and errors — no VM password, private key or connection ticket appears in the
 * gateway's logs or in anything sent to the browser, except the explicit, audited Reveal answer
 * (and each ticket in the one response that hands it to its page).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerLinuxBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { attemptUpgrade, ticketProtocols } from '../helpers/upgrade-probe.js';
import { BrowserExposure } from '../helpers/exposure.js';

const UI_TIMEOUT_MS = 20_000;

let sshd: SshdHandle;
let xvnc: XvncHandle;
let gw: TestGateway;
let world: World;
let browser: Browser;
const exposure = new BrowserExposure();
const tickets: string[] = [];
let revealed = '';

before(async () => {
  [sshd, xvnc] = await Promise.all([startSshd(), startXvnc()]);
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
  const key = sshd.keyUser;
  assert.ok(key.privateKey);
  await registerLinuxBuild(gw, 'build-key', { host: sshd.host, port: sshd.port, username: key.username, privateKey: key.privateKey, hostKey: sshd.hostKeyFingerprint });
  browser = await launchChromium(['--disable-3d-apis']);
});
after(async () => {
  await browser.close();
  await gw.close();
  await Promise.all([sshd.stop(), xvnc.stop()]);
});

async function recordedPage(): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 700 } })).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('response', (res) => {
    const url = new URL(res.url());
    void res.body().then(
      (body) => {
        const text = body.toString('latin1');
        // The Reveal answer is the one place VM passwords may go; the mint answer carries its ticket.
        if (url.pathname.endsWith('/remote-access')) revealed += text;
        else if (url.pathname.endsWith('/connections')) tickets.push(String((JSON.parse(text) as { ticket?: string }).ticket ?? ''));
        else exposure.record(text);
      },
      () => undefined,
    );
    exposure.record(JSON.stringify(res.headers()));
  });
  page.on('websocket', (ws) => ws.on('framereceived', (frame) => exposure.record(frame.payload)));
  return page;
}

test('a full run leaks no VM secret or ticket outside the Reveal answer', async () => {
  // In Chromium: build page, an explicit Reveal, the terminal, the screen.
  const page = await recordedPage();
  await signInThroughForm(page, gw.url, world.users.owner, '/builds/build-mac');
  const revealResponse = page.waitForResponse((res) => res.url().endsWith('/remote-access'));
  await page.locator('button[data-reveal]').first().click();
  await (await revealResponse).finished();
  await page.goto(`${gw.url}/builds/build-mac/terminal`);
  await page.locator('#conn-state[data-state="connected"]').waitFor();
  await page.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type('echo secrets-$((3*14))');
  await page.keyboard.press('Enter');
  await page.locator('.xterm-rows > div').filter({ hasText: /^\s*secrets-42\s*$/ }).first().waitFor();
  await page.goto(`${gw.url}/builds/build-mac/screen`);
  await page.locator('#conn-state[data-state="connected"]').waitFor();
  await page.goto(`${gw.url}/builds/build-key/terminal`);
  await page.locator('#conn-state[data-state="connected"]').waitFor();
  await page.context().close();

  // Over the API: sessions by key and password, refusals of every kind, errors.
  const agent = await signIn(gw, world.users.developer);
  for (const buildId of ['build-key', world.builds.linuxRunning]) {
    const t = await mintTicket(gw, agent, buildId);
    tickets.push(t.ticket);
    const terminal = await connectTerminal(t, gw);
    await terminal.waitForControl('ready');
    terminal.type('env | grep -i -e pass -e key -e ticket; echo env-done\r');
    await terminal.waitForOutput(/env-done\r\n/);
    exposure.record(terminal.outputBytes());
    exposure.record(JSON.stringify(terminal.controls));
    terminal.close();
    // The used ticket again: refused, and the refusal does not echo it.
    const replay = await attemptUpgrade({ url: t.url, origin: gw.origin, protocols: ticketProtocols(t.protocol, t.ticket) });
    assert.equal(replay.opened, false);
    if (!replay.opened) exposure.record(replay.body);
  }
  const tester = await signIn(gw, world.users.tester);
  for (const res of [
    await tester.get('/api/v1/builds/build-mac/remote-access').set('Sec-Fetch-Site', 'same-origin'),
    await tester.post('/api/v1/builds/build-mac/connections').set('Origin', gw.origin).send({ kind: 'vnc' }),
    await agent.get('/api/v1/builds/build-old/remote-access').set('Sec-Fetch-Site', 'same-origin'),
    await agent.get('/builds/build-mac'),
    await agent.get('/builds/build-key'),
    await agent.post('/api/v1/builds/build-mac/connections').set('Origin', gw.origin).send('{"kind":'),
  ]) {
    exposure.recordResponse(res);
  }
  // A wrong VM password makes the gateway log a login failure; the password itself stays out.
  await registerLinuxBuild(gw, 'build-wrong', { ...passwordEndpoint(sshd), password: `${world.vmSecrets.sshPassword}-wrong` });
  const wrong = await connectTerminal(await mintTicket(gw, agent, 'build-wrong'), gw);
  exposure.record(JSON.stringify(await wrong.closed));
  exposure.record(JSON.stringify(wrong.controls));
  // The control API's answers (to the orchestrator, not a browser) do not echo secrets either.
  exposure.recordResponse(await control(gw).get('/builds/build-key'));

  const key = sshd.keyUser.privateKey;
  assert.ok(key);
  const keyBody = key.split('\n').filter((line) => line.length > 40)[0] ?? '';
  assert.ok(revealed.includes(world.vmSecrets.sshPassword), 'the Reveal answer did carry the password (the one allowed place)');
  assert.ok(tickets.length >= 4);
  const secrets: Record<string, string> = {
    'VM ssh password': world.vmSecrets.sshPassword,
    'VM vnc password': xvnc.password,
    'VM private key (a line of it)': keyBody,
  };
  tickets.forEach((t, i) => {
    if (t) secrets[`ticket ${i}`] = t;
  });
  exposure.assertNoneOf(secrets, gw.rawLogs());
  process.stdout.write(`# secrets: ${Object.keys(secrets).length} secrets searched in ${exposure.recordedBytes} bytes sent to browsers and ${gw.rawLogs().length} bytes of logs\n`);
});
