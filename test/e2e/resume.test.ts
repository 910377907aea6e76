/**
 * Sessions outlive connections (issue #15), in a real browser: the network between the page and
 * the gateway goes down and comes back (a TCP relay the page reaches the gateway through), or the
 * page is reloaded, and the terminal takes the same shell up again while the screen reconnects by
 * itself. The gateway holds sessions for its default resumeSeconds (300).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openSignedInPage } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { pollUntil } from '../helpers/ports.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
/** vim writes its file when :wq is typed; this only bounds a broken run. */
const FILE_WAIT_MS = UI_TIMEOUT_MS;
/**
 * How long the network stays down: the scenario, not a wait for something. Long enough for
 * several tries of the page's backoff (0.5 s, 1 s, 2 s) to fail against the refusing relay.
 */
const OUTAGE_MS = 3_000;
/** A short outage, for tests about what survives one rather than about the backoff. */
const BRIEF_OUTAGE_MS = 1_000;
/** Numbers the counter prints before the cut, and after the resume, so both sides of the gap are on screen. */
const COUNT_BEFORE_CUT = 30;
const COUNT_AFTER_RESUME = 50;
/** Rows of slack beside the numbers when the terminal is grown to show them all: the command, prompts. */
const ROWS_SLACK = 40;
const BACKGROUND = '#336699';
const BACKGROUND_RGB: readonly number[] = [0x33, 0x66, 0x99];
/** The browser says so when the relay refuses it; expected while the network is down. */
const NETWORK_NOISE = /WebSocket connection to .* failed|Failed to load resource|ERR_CONNECTION|ERR_EMPTY_RESPONSE/;

describe('sessions outlive connections, in Chromium', () => {
  let sshd: SshdHandle;
  let xvnc: XvncHandle;
  let relay: TcpRelay;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  /** Where the browser reaches the gateway: through the relay, which is the gateway's public URL. */
  let pageUrl: string;

  before(async () => {
    sshd = await startSshd();
    xvnc = await startXvnc({ terminalWindow: true, background: BACKGROUND });
    // The relay reads its target at each connection: the gateway's port is filled in once it has one.
    const target = { host: '127.0.0.1', port: 0 };
    relay = await startTcpRelay(target);
    pageUrl = `http://${relay.host}:${relay.port}`;
    gw = await startGateway({ PORTHOLE_PUBLIC_URL: pageUrl });
    target.port = Number(new URL(gw.url).port);
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    // Without WebGL xterm.js falls back to its DOM renderer, whose rows the test can read.
    browser = await launchChromium(['--disable-3d-apis']);
  });
  /** Closed after each test, pass or fail, with the network back up for the next one. */
  const contexts: BrowserContext[] = [];
  afterEach(async () => {
    relay.accept();
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  after(async () => {
    await browser.close();
    await gw.close();
    await relay.close();
    await Promise.all([sshd.stop(), xvnc.stop()]);
  });

  async function openPage(path: string, viewport = { width: 1000, height: 700 }): Promise<{ page: Page; errors: string[] }> {
    const opened = await openSignedInPage(browser, pageUrl, world.users.developer, path, { viewport, timeoutMs: UI_TIMEOUT_MS, ignoreConsole: NETWORK_NOISE });
    contexts.push(opened.context);
    await opened.page.locator('#conn-state[data-state="connected"]').waitFor();
    return opened;
  }

  /** Types a command and waits until a rendered row matches `expect`. */
  async function run(page: Page, command: string, expect: RegExp): Promise<void> {
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    await row(page, expect).waitFor();
  }

  function row(page: Page, expect: RegExp): ReturnType<Page['locator']> {
    return page.locator('.xterm-rows > div').filter({ hasText: expect }).first();
  }

  async function rows(page: Page): Promise<string[]> {
    return page.locator('.xterm-rows > div').evaluateAll((divs) => divs.map((div) => (div.textContent ?? '').trim()));
  }

  /** The network goes down for `outageMs`: the page says Reconnecting… (not Disconnected) meanwhile, then is connected again with no click. */
  async function outage(page: Page, outageMs: number): Promise<void> {
    relay.refuse();
    const state = page.locator('#conn-state');
    await page.locator('#conn-state[data-state="reconnecting"]').waitFor();
    assert.equal(await state.textContent(), 'Reconnecting…');
    assert.equal(await page.locator('#reconnect').isVisible(), false, 'no click is needed');
    await delay(outageMs);
    assert.equal(await state.getAttribute('data-state'), 'reconnecting', 'still trying while the network is down');
    relay.accept();
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    assert.equal(await page.locator('#reconnect').isVisible(), false);
  }

  test('a cut network: Reconnecting…, resumed without a click, every line of output exactly once and in order', async () => {
    const { page, errors } = await openPage('/builds/build-linux/terminal');
    // Stopped by a file, not Ctrl-C: an interrupt races the loop's own fork and flushes what is typed after it.
    const stop = `/tmp/porthole-stop-${randomBytes(6).toString('hex')}`;
    await run(page, `i=0; while [ ! -e ${stop} ]; do echo $i; i=$((i+1)); sleep 0.01; done; echo loop-done`, new RegExp(`^\\s*${COUNT_BEFORE_CUT}\\s*$`));

    await outage(page, OUTAGE_MS);

    // The loop ran on while the page was away; what it printed meanwhile arrives, then more.
    const resumedAt = Math.max(...(await rows(page)).filter((text) => /^\d+$/.test(text)).map(Number));
    await row(page, new RegExp(`^\\s*${resumedAt + COUNT_AFTER_RESUME}\\s*$`)).waitFor();
    writeFileSync(stop, '');
    await row(page, /^\s*loop-done\s*$/).waitFor();
    await run(page, 'echo "stopped-$((40+2))"', /^\s*stopped-42\s*$/);
    rmSync(stop, { force: true });

    // Grow the terminal until every line since the command is on screen (xterm.js pulls the
    // scrollback down into the new rows), so the DOM renderer's rows hold all the output.
    const numbers = (await rows(page)).filter((text) => /^\d+$/.test(text)).map(Number);
    const last = Math.max(...numbers);
    const rowHeight = await page.locator('.xterm-rows > div').first().evaluate((div) => div.getBoundingClientRect().height);
    const needed = last + ROWS_SLACK;
    await page.setViewportSize({ width: 1000, height: Math.ceil(needed * rowHeight) + 200 });
    await page.waitForFunction((n) => document.querySelectorAll('.xterm-rows > div').length >= n, needed);

    const shown = (await rows(page)).filter((text) => /^\d+$/.test(text)).map(Number);
    assert.equal(shown[0], 0, 'the output from the start is there');
    const expected = Array.from({ length: shown.length }, (_, i) => i);
    assert.deepEqual(shown, expected, 'each number once, in order: nothing lost, nothing repeated across the resume');
    assert.ok(shown.length > resumedAt + COUNT_AFTER_RESUME, `${shown.length} numbers`);
    assert.equal((await rows(page)).some((text) => text.includes('earlier output is not shown')), false, 'the gateway still had everything');
    assert.equal((await rows(page)).some((text) => text.includes('reconnected')), false, 'the same shell, not a new one');
    assert.deepEqual(errors, []);
  });

  test('a reload takes the same shell up again, with its output replayed onto the new screen', async () => {
    const { page, errors } = await openPage('/builds/build-linux/terminal');
    await run(page, 'echo "before-$$"', /^\s*before-\d+\s*$/);
    const before = /before-(\d+)/.exec(await row(page, /^\s*before-\d+\s*$/).innerText());
    assert.ok(before?.[1]);
    const stored = await page.evaluate(() => sessionStorage.getItem('porthole.session.ssh.build-linux'));
    assert.ok(stored, 'the tab keeps the session id');

    // The page asks before leaving a live shell (issue #21); the user says yes.
    const asked = new Promise<string>((resolve) => page.once('dialog', (dialog) => void dialog.accept().then(() => resolve(dialog.type()))));
    await page.reload();
    assert.equal(await asked, 'beforeunload');
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    // The screen is rebuilt from what the gateway kept: the earlier command and its output.
    await row(page, new RegExp(`^\\s*before-${before[1]}\\s*$`)).waitFor();
    await run(page, 'echo "after-$$"', /^\s*after-\d+\s*$/);
    const afterReload = /after-(\d+)/.exec(await row(page, /^\s*after-\d+\s*$/).innerText());
    assert.equal(afterReload?.[1], before[1], 'the same shell (same PID) after the reload');
    assert.equal(await page.locator('#host-key').textContent(), sshd.hostKeyFingerprint, 'the host key is still shown');
    assert.deepEqual(errors, []);
  });

  test('Disconnect ends the shell for good: the session is not held, the tab forgets it, Reconnect starts a new one', async () => {
    const { page, errors } = await openPage('/builds/build-linux/terminal');
    await run(page, 'echo "first-$$"', /^\s*first-\d+\s*$/);
    const first = /first-(\d+)/.exec(await row(page, /^\s*first-\d+\s*$/).innerText());
    const stored = await page.evaluate(() => sessionStorage.getItem('porthole.session.ssh.build-linux'));
    const sessionId = stored === null ? null : (JSON.parse(stored) as { id: string }).id;
    assert.ok(first?.[1] && sessionId);
    await page.locator('#disconnect').click();
    await page.locator('#conn-state[data-state="disconnected"]').waitFor();
    assert.equal(await page.locator('#disconnect').isVisible(), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('porthole.session.ssh.build-linux')), null, 'the tab forgets the ended session');
    const resumeStatus = await page.evaluate(async (id) => {
      const res = await fetch('/api/v1/builds/build-linux/connections', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'ssh', sessionId: id }) });
      return res.status;
    }, sessionId);
    assert.equal(resumeStatus, 404, 'nothing is held to resume');
    await page.locator('#reconnect').click();
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    await run(page, 'echo "second-$$"', /^\s*second-\d+\s*$/);
    const second = /second-(\d+)/.exec(await row(page, /^\s*second-\d+\s*$/).innerText());
    assert.notEqual(second?.[1], first[1], 'a new shell');
    assert.deepEqual(errors, []);
  });

  test('vim survives a cut: still running and on screen after the resume, and takes the typing that follows', async () => {
    const { page, errors } = await openPage('/builds/build-linux/terminal');
    const file = `/tmp/porthole-resume-${randomBytes(6).toString('hex')}.txt`;
    // No vimrc, no viminfo: the same screen on every machine.
    await run(page, `vim -N -u NONE -i NONE ${file}`, /^~\s*$/);
    await page.keyboard.type('ibefore-cut-text');
    await page.keyboard.press('Escape');
    await row(page, /^\s*before-cut-text\s*$/).waitFor();

    await outage(page, BRIEF_OUTAGE_MS);

    // Still vim's screen: the text and its empty-line tildes, not a shell prompt or a reset screen.
    await row(page, /^\s*before-cut-text\s*$/).waitFor();
    assert.ok((await rows(page)).filter((text) => text === '~').length > 3, 'vim still fills the screen');
    await page.keyboard.type('oafter-cut-text');
    await page.keyboard.press('Escape');
    await page.keyboard.type(':wq');
    await page.keyboard.press('Enter');
    // Read from the disk, not typed into the shell: vim leaving the screen flushes what is typed ahead of it.
    await pollUntil('vim to write the file', FILE_WAIT_MS, async () => (await readFile(file, 'utf8').catch(() => '')) === 'before-cut-text\nafter-cut-text\n');
    rmSync(file, { force: true });
    assert.deepEqual(errors, []);
  });

  test('the screen reconnects by itself after a cut, showing its last frame meanwhile', async () => {
    const { page, errors } = await openPage('/builds/build-mac/screen', { width: 1280, height: 900 });
    const desktopShown = (selector: string): Promise<unknown> =>
      page.waitForFunction(
        ({ selector, rgb }) => {
          const canvas = document.querySelector<HTMLCanvasElement>(selector);
          if (!canvas || canvas.width === 0) return false;
          const d = canvas.getContext('2d')?.getImageData(5, 5, 1, 1).data;
          return d !== undefined && d[0] === rgb[0] && d[1] === rgb[1] && d[2] === rgb[2];
        },
        { selector, rgb: BACKGROUND_RGB },
      );
    await desktopShown('#screen canvas');

    relay.refuse();
    await page.locator('#conn-state[data-state="reconnecting"]').waitFor();
    assert.equal(await page.locator('#conn-state').textContent(), 'Reconnecting…');
    // noVNC removed its canvas; the last frame stands in for it.
    assert.equal(await page.locator('#screen canvas').count(), 0);
    await page.locator('.screen-last-frame').waitFor({ state: 'visible' });
    await desktopShown('.screen-last-frame canvas');
    assert.equal(await page.locator('#reconnect').isVisible(), false, 'no click is needed');
    await delay(OUTAGE_MS);
    assert.equal(await page.locator('#conn-state').getAttribute('data-state'), 'reconnecting', 'still trying while the network is down');
    relay.accept();

    await page.locator('#conn-state[data-state="connected"]').waitFor();
    await desktopShown('#screen canvas');
    await page.locator('.screen-last-frame').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#term-banner').isVisible(), false, 'no error was shown');
    assert.deepEqual(errors, []);
  });
});
