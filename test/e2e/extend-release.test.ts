/**
 * Extend and release in Chromium (issue #20): Extend on the terminal page moves the countdowns of
 * the open terminal, screen and build pages; releasing from the build page closes the terminal and
 * the screen, each showing who released it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Response } from 'playwright-core';
import { launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { registerClosingBuild, seedWorld, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';

const UI_TIMEOUT_MS = 15_000;
/** Pages follow the window's events: an Extend shows well inside the 5 s the poll would take. */
const PUSHED_WITHIN_MS = 2_000;
/** The page's EventSource is connected: changes from now on are pushed. */
const isWindowStream = (response: Response): boolean => response.url().endsWith('/window/events') && response.status() === 200;

let sshd: SshdHandle;
let xvnc: XvncHandle;
let gw: TestGateway;
let world: World;
let browser: Browser;

before(async () => {
  [sshd, xvnc] = await Promise.all([startSshd(), startXvnc()]);
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  browser = await launchChromium(['--disable-3d-apis']);
});
after(async () => {
  await browser.close();
  await gw.close();
  await Promise.all([sshd.stop(), xvnc.stop()]);
});

test('Extend moves the countdown on the terminal, the screen and the build page; Release closes the terminal and the screen naming who', async () => {
  // Closing 5 minutes from now: in its last 15-minute step.
  const put = await registerClosingBuild(gw, 'build-e2e-extend', 5, {
    stack: 'macos',
    remoteAccess: { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } },
    graceMinutes: gw.config.graceMinutes,
  });
  assert.equal(put.status, 201, JSON.stringify(put.body));

  const context = await browser.newContext();
  const terminal = await context.newPage();
  terminal.setDefaultTimeout(UI_TIMEOUT_MS);
  await signInThroughForm(terminal, gw.url, world.users.owner, '/builds/build-e2e-extend/terminal');
  await terminal.locator('#conn-state[data-state="connected"]').waitFor();
  const screen = await context.newPage();
  screen.setDefaultTimeout(UI_TIMEOUT_MS);
  const screenStream = screen.waitForResponse(isWindowStream);
  await screen.goto(`${gw.url}/builds/build-e2e-extend/screen`);
  await screenStream;
  await screen.locator('#conn-state[data-state="connected"]').waitFor();
  await screen.locator('#window-countdown', { hasText: /^Closes in [45]:\d\d$/ }).waitFor();
  await screen.getByRole('button', { name: 'Extend 15 min' }).waitFor();
  const buildPage = await context.newPage();
  buildPage.setDefaultTimeout(UI_TIMEOUT_MS);
  const buildStream = buildPage.waitForResponse(isWindowStream);
  await buildPage.goto(`${gw.url}/builds/build-e2e-extend`);
  await buildStream;
  assert.match((await buildPage.locator('[data-countdown]').textContent()) ?? '', /^[45]:\d\d$/);

  await terminal.getByRole('button', { name: 'Extend 15 min' }).click();
  await terminal.locator('#window-countdown', { hasText: /^Closes in (19|20):\d\d$/ }).waitFor();
  await terminal.getByRole('button', { name: 'Extend 15 min' }).waitFor({ state: 'hidden' });
  // The screen and the build page follow at once: the gateway pushes the change to their streams.
  await screen.locator('#window-countdown', { hasText: /^Closes in (19|20):\d\d$/ }).waitFor({ timeout: PUSHED_WITHIN_MS });
  await screen.getByRole('button', { name: 'Extend 15 min' }).waitFor({ state: 'hidden', timeout: PUSHED_WITHIN_MS });
  await buildPage.locator('[data-countdown]', { hasText: /^(19|20):\d\d$/ }).waitFor({ timeout: PUSHED_WITHIN_MS });

  buildPage.once('dialog', (dialog) => void dialog.accept());
  await buildPage.getByRole('button', { name: "I'm done — release the VM" }).click();
  for (const page of [terminal, screen]) {
    await page.locator('#conn-state[data-state="disconnected"]').waitFor();
    await page.locator('#term-banner', { hasText: `The access window has closed: released by ${world.users.owner.id}.` }).waitFor();
    assert.equal(await page.locator('#window-countdown').textContent(), 'Access window closed');
    assert.equal(await page.getByRole('button', { name: "I'm done — release the VM" }).isVisible(), false);
  }
  await context.close();
});
