/**
 * A hostile VM against the real pages in Chromium. The terminal shows escape sequences meant to
 * run script, write the clipboard, probe the terminal and smuggle javascript: links; VNC servers
 * send HTML in their desktop name and failure reason, garbage and absurd lengths. Everything must
 * end as text, be ignored, or close with 4004 — no dialog, no CSP violation, no injected element.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startFakeRfbServer, type FakeRfbServer } from '../helpers/ard-server.js';
import { BrowserExposure } from '../helpers/exposure.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';

const UI_TIMEOUT_MS = 20_000;
const INJECTED_HTML = '<img src=x onerror=alert(1)>';
const VNC_PASSWORD = 'hostile1';

interface Watched {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Dialogs, page errors, console errors and CSP violations: all must stay empty. */
  readonly incidents: string[];
}

let sshd: SshdHandle;
let gw: TestGateway;
let world: World;
let browser: Browser;
const rfbServers: FakeRfbServer[] = [];
const exposure = new BrowserExposure();

before(async () => {
  sshd = await startSshd();
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  browser = await launchChromium(['--disable-3d-apis']);
});
after(async () => {
  await browser.close();
  exposure.assertNoneOf({ 'VM ssh password': world.vmSecrets.sshPassword, 'VM vnc password': VNC_PASSWORD }, gw.rawLogs());
  await gw.close();
  await Promise.all(rfbServers.map((s) => s.stop()));
  await sshd.stop();
});

async function watchedPage(permissions: string[] = []): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 }, permissions });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const incidents: string[] = [];
  page.on('dialog', (dialog) => {
    incidents.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => incidents.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') incidents.push(`console: ${message.text()}`);
  });
  page.on('popup', (popup) => incidents.push(`popup: ${popup.url()}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page.on('websocket', (ws) => {
    ws.on('framereceived', (frame) => exposure.record(typeof frame.payload === 'string' ? frame.payload : frame.payload));
  });
  page.on('response', (res) => {
    void res.text().then(
      (body) => exposure.record(body),
      () => undefined,
    );
  });
  return { page, context, incidents };
}

async function injectedElements(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelectorAll('img[src="x"], script:not([src]):not([nonce])').length);
}

describe('hostile terminal output', () => {
  test('titles, OSC 52, probes, javascript: links and HTML stay text or are ignored', async () => {
    const script = `/tmp/porthole-hostile-${randomBytes(6).toString('hex')}.sh`;
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `printf '\\033]0;${INJECTED_HTML}\\007'`,
        `printf '\\033]2;</title><script>alert(2)</script>\\007'`,
        `printf '\\033]0;${INJECTED_HTML}\\007'`,
        // OSC 52: a clipboard write the page must never perform.
        `printf '\\033]52;c;%s\\007' "$(printf 'vm-owned-clipboard' | base64)"`,
        // DECRQSS, DA1, DA2 and a window-title report request: answered or ignored, never run.
        `printf '\\033P$qm\\033\\\\\\033[c\\033[>c\\033[21t'`,
        `printf '\\033]8;;javascript:alert(3)\\033\\\\click-me-js\\033]8;;\\033\\\\\\n'`,
        `printf '\\033]8;;data:text/html,<script>alert(4)</script>\\033\\\\click-me-data\\033]8;;\\033\\\\\\n'`,
        `printf '<script>alert(5)</script> ${INJECTED_HTML}\\n'`,
        'echo hostile-done-$((6*7))',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    const { page, incidents } = await watchedPage(['clipboard-read', 'clipboard-write']);
    try {
      await signInThroughForm(page, gw.url, world.users.developer, '/builds/build-linux/terminal');
      await page.locator('#conn-state[data-state="connected"]').waitFor();
      await page.evaluate(() => navigator.clipboard.writeText('clipboard-before'));
      await page.locator('.xterm-helper-textarea').focus();
      // A plain prompt, so the shell does not set its own title over the VM's afterwards.
      await page.keyboard.type(`PS1='$ '; unset PROMPT_COMMAND; sh ${script}`);
      await page.keyboard.press('Enter');
      await page.locator('.xterm-rows > div').filter({ hasText: /^\s*hostile-done-42\s*$/ }).first().waitFor();

      // The title is the VM's text, shown as text.
      assert.ok((await page.title()).includes(INJECTED_HTML), `title: ${await page.title()}`);
      const rows = (await page.locator('.xterm-rows').textContent()) ?? '';
      assert.ok(rows.includes('<script>alert(5)</script>'), 'HTML in the output is shown literally');
      // Clicking the smuggled links opens nothing and runs nothing.
      for (const label of ['click-me-js', 'click-me-data']) {
        const row = page.locator('.xterm-rows > div').filter({ hasText: label }).first();
        const box = await row.boundingBox();
        assert.ok(box);
        await page.mouse.move(box.x + 20, box.y + box.height / 2);
        await page.mouse.click(box.x + 20, box.y + box.height / 2);
      }
      assert.equal(page.url(), `${gw.url}/builds/build-linux/terminal`);
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'clipboard-before', 'OSC 52 wrote the clipboard');
      assert.equal(await injectedElements(page), 0);
      assert.deepEqual(incidents, []);
    } finally {
      rmSync(script, { force: true });
      await page.context().close();
    }
  });
});

describe('a VM that dies under the page', () => {
  test('the terminal page ends cleanly: disconnected, the reason as text, no errors', async () => {
    const relay = await startTcpRelay({ host: sshd.host, port: sshd.port });
    const res = await control(gw).put('/builds/dying-vm', {
      appId: 'app-1',
      stack: 'linux',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { ...passwordEndpoint(sshd), host: relay.host, port: relay.port } },
    });
    assert.ok(res.status < 300);
    const { page, incidents } = await watchedPage();
    try {
      await signInThroughForm(page, gw.url, world.users.developer, '/builds/dying-vm/terminal');
      await page.locator('#conn-state[data-state="connected"]').waitFor();
      relay.cut();
      await page.locator('#conn-state[data-state="disconnected"]').waitFor();
      const banner = (await page.locator('#term-banner').textContent()) ?? '';
      assert.match(banner, /build VM|shell|ended|reached/i, banner);
      assert.equal(await page.locator('#reconnect').isVisible(), true);
      assert.deepEqual(incidents, []);
    } finally {
      await page.context().close();
      await relay.close();
    }
  });
});

describe('hostile VNC servers', () => {
  async function macBuild(id: string, server: FakeRfbServer, password = VNC_PASSWORD): Promise<void> {
    const res = await control(gw).put(`/builds/${id}`, {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: passwordEndpoint(sshd), vnc: { host: server.host, port: server.port, password } },
    });
    assert.ok(res.status < 300, JSON.stringify(res.body));
  }

  async function fakeVm(options: Omit<Parameters<typeof startFakeRfbServer>[0], 'username' | 'password'>): Promise<FakeRfbServer> {
    const server = await startFakeRfbServer({ username: 'runner', password: VNC_PASSWORD, securityTypes: [2], ...options });
    rfbServers.push(server);
    return server;
  }

  async function openScreen(buildId: string): Promise<Watched> {
    const watched = await watchedPage();
    await signInThroughForm(watched.page, gw.url, world.users.developer, `/builds/${buildId}/screen`);
    return watched;
  }

  test('HTML in the desktop name is shown as text', async () => {
    await macBuild('vnc-html-name', await fakeVm({ desktopName: `${INJECTED_HTML}<b>bold</b>` }));
    const { page, incidents } = await openScreen('vnc-html-name');
    try {
      await page.locator('#conn-state[data-state="connected"]').waitFor();
      await page.waitForFunction((html) => document.title.includes(html), INJECTED_HTML);
      assert.equal(await injectedElements(page), 0);
      assert.equal(await page.locator('b', { hasText: 'bold' }).count(), 0);
      assert.deepEqual(incidents, []);
    } finally {
      await page.context().close();
    }
  });

  test('HTML in the failure reason never reaches the page; the close is 4004 with our text', async () => {
    await macBuild('vnc-html-reason', await fakeVm({ failureReason: `${INJECTED_HTML} wrong password` }), 'wrongpw1');
    const { page, incidents } = await openScreen('vnc-html-reason');
    try {
      await page.locator('#conn-state[data-state="disconnected"]').waitFor();
      const content = await page.content();
      assert.ok(!content.includes('onerror=alert'), 'the VM reason reached the page');
      assert.equal(await injectedElements(page), 0);
      // noVNC logs the failure to the console, with the gateway's own sentence only.
      assert.deepEqual(
        incidents.filter((i) => i !== 'console: Failed when connecting: Security negotiation failed on security result (reason: The build VM refused the screen login; its screen password may have changed. Rebuild with remote access if it persists.)'),
        [],
      );
    } finally {
      await page.context().close();
    }
  });

  test('garbage mid-stream: the page shows a disconnect as text, nothing runs', async () => {
    // Message type 0xff does not exist in RFB; then bytes that look like markup.
    await macBuild('vnc-garbage', await fakeVm({ afterFirstUpdate: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${INJECTED_HTML}<script>alert(6)</script>`)]) }));
    const { page, incidents } = await openScreen('vnc-garbage');
    try {
      await page.locator('#conn-state[data-state="disconnected"]').waitFor();
      assert.equal(await injectedElements(page), 0);
      assert.ok(!(await page.content()).includes('alert(6)'));
      assert.deepEqual(
        incidents.filter((i) => !/WebSocket|Failed to load resource|Unexpected server message|unsupported|Disconnect/i.test(i)),
        [],
      );
      assert.equal(incidents.filter((i) => i.startsWith('dialog') || i.startsWith('CSP') || i.includes('CSP violation')).length, 0);
    } finally {
      await page.context().close();
    }
  });

  test('an absurd ServerInit closes with 4004 before the browser sees it', async () => {
    const init = Buffer.alloc(24);
    init.writeUInt16BE(64, 0);
    init.writeUInt16BE(48, 2);
    init.writeUInt8(32, 4);
    init.writeUInt32BE(0xffffffff, 20);
    await macBuild('vnc-absurd-init', await fakeVm({ serverInit: init }));
    const { page, incidents } = await openScreen('vnc-absurd-init');
    try {
      const started = performance.now();
      await page.locator('#conn-state[data-state="disconnected"]').waitFor();
      process.stdout.write(`# absurd ServerInit: page disconnected after ${(performance.now() - started).toFixed(0)} ms\n`);
      const log = gw.logs().find((line) => line['event'] === 'vm_protocol_error');
      assert.ok(log, 'the bad ServerInit is logged');
      assert.equal(await injectedElements(page), 0);
      assert.equal(incidents.filter((i) => i.startsWith('dialog') || i.includes('CSP violation')).length, 0, incidents.join('\n'));
    } finally {
      await page.context().close();
    }
  });
});
