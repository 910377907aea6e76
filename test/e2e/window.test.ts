/** The terminal page warns before the access window closes and then shows the closed state. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

/** Starts inside the 2-minute warning and crosses the 30-second one a few seconds in. */
const WINDOW_LEFT_MS = 34_000;
const UI_TIMEOUT_MS = WINDOW_LEFT_MS + 15_000;

let sshd: SshdHandle;
let gw: TestGateway;
let world: World;
let browser: Browser;

before(async () => {
  sshd = await startSshd();
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  browser = await launchChromium(['--disable-3d-apis']);
});
after(async () => {
  await browser.close();
  await gw.close();
  await sshd.stop();
});

test('terminal page: 2-minute and 30-second warnings outside the terminal, then the closed state', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  // Headless Chromium shows no notifications; record what the page asks the browser to show.
  // A string, not a function: the test's compiler would rewrite a class's static fields with helpers the page lacks.
  await page.addInitScript(`
    const shown = [];
    window.shownNotifications = shown;
    function RecordingNotification(title) { shown.push(title); }
    RecordingNotification.permission = 'default';
    RecordingNotification.requestPermission = () => { RecordingNotification.permission = 'granted'; return Promise.resolve('granted'); };
    Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true });
  `);
  await signInThroughForm(page, gw.url, world.users.owner, '/builds/build-linux/terminal');
  await page.locator('#conn-state[data-state="connected"]').waitFor();
  await page.getByRole('button', { name: 'Notify me' }).click();
  await page.locator('#notify-toggle[aria-pressed="true"]').waitFor();

  const closesAt = Date.now() + WINDOW_LEFT_MS;
  const finish = await control(gw).post('/builds/build-linux/finish', { finishedAt: new Date(closesAt - 10 * 60_000).toISOString() });
  assert.equal(finish.status, 200, JSON.stringify(finish.body));

  await page.locator('body[data-window="warning-2m"]').waitFor();
  assert.match((await page.locator('#term-banner').textContent()) ?? '', /closes in 2 minutes/);
  // The time left leads the tab's title, for a user in another tab (issue #21).
  assert.match(await page.title(), /^\d+:\d\d · .*Build build-linux · Porthole$/);
  assert.equal(await page.locator('#terminal #term-banner').count(), 0, 'the banner is outside the terminal');
  // The optional notification at the first warning (issue #21), once.
  assert.deepEqual(await page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications), [`${await page.locator('#terminal').getAttribute('data-build-label')}: access closes in 2 minutes`]);

  await page.locator('body[data-window="warning-30s"]').waitFor();
  assert.match((await page.locator('#term-banner').textContent()) ?? '', /closes in 30 seconds/);

  await page.locator('body[data-window="closed"]').waitFor();
  assert.ok(Date.now() >= closesAt - 1_000, 'not closed early');
  assert.match((await page.locator('#term-banner').textContent()) ?? '', /access window has closed/i);
  assert.equal(await page.locator('#window-countdown').textContent(), 'Access window closed');
  assert.doesNotMatch(await page.title(), /^\d+:\d\d · /, 'no countdown once closed');
  assert.equal(await page.locator('#reconnect').isVisible(), false);
  await page.locator('#conn-state[data-state="disconnected"]').waitFor();
  assert.equal(await page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications.length), 1, 'not again at 30 s or at the close');
});
