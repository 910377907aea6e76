/** The terminal's Settings menu in Chromium against a real sshd (issue #21). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Frame, Page } from 'playwright-core';
import { launchChromium, openSignedInPage, recordPageErrors } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { attr, dashboardPage, startDashboard, type Dashboard } from '../helpers/dashboard.js';
import { launchOk } from '../helpers/embed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
const VIEWPORT = { width: 1000, height: 700 };
/** Well above the default 14 px: the terminal then holds clearly fewer rows and columns. */
const BIG_FONT_PX = 22;
const WHITE = 'rgb(255, 255, 255)';

describe('terminal settings in Chromium', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  let dashboard: Dashboard;

  before(async () => {
    [sshd, dashboard] = await Promise.all([startSshd(), startDashboard()]);
    gw = await startGateway({ PORTHOLE_EMBED_ORIGINS: dashboard.origin });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    // Without WebGL xterm.js draws DOM rows the test can read and measure.
    browser = await launchChromium(['--disable-3d-apis']);
  });
  after(async () => {
    await browser.close();
    await gw.close();
    await Promise.all([sshd.stop(), dashboard.close()]);
  });

  async function openTerminal(): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
    const { context, page, errors } = await openSignedInPage(browser, gw.url, world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`, {
      viewport: VIEWPORT,
      timeoutMs: UI_TIMEOUT_MS,
    });
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors, close: () => context.close() };
  }

  /** `stty size` on the VM, as "rows cols"; `tag` tells this answer from earlier ones on screen. */
  async function sttySize(page: Page, tag: string): Promise<{ rows: number; cols: number }> {
    await page.keyboard.type(`clear; stty size | sed "s/^/${tag}:/"`);
    await page.keyboard.press('Enter');
    const pattern = new RegExp(`${tag}:(\\d+) (\\d+)`);
    await page.locator('.xterm-rows > div').filter({ hasText: pattern }).first().waitFor();
    const match = pattern.exec((await page.locator('.xterm-rows').textContent()) ?? '');
    assert.ok(match, `stty size answered (${tag})`);
    return { rows: Number(match[1]), cols: Number(match[2]) };
  }

  const rowHeight = (page: Page): Promise<number> => page.evaluate(() => document.querySelector('.xterm-rows > div')?.getBoundingClientRect().height ?? 0);
  const terminalBackground = (page: Page): Promise<string> => page.evaluate(() => getComputedStyle(document.querySelector('.xterm-scrollable-element') ?? document.body).backgroundColor);
  const focusIsInTerminal = (page: Page): Promise<boolean> => page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea') === true);

  test('font size, theme and cursor apply at once, the PTY follows the new size, and they are remembered across a reload', async () => {
    const { page, errors, close } = await openTerminal();
    const before = await sttySize(page, 'BEFORE');
    const smallRow = await rowHeight(page);
    assert.notEqual(await terminalBackground(page), WHITE, 'dark by default');

    const toggle = page.locator('#term-settings-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await page.locator('#term-settings').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'term-setting-font-size', 'the menu takes the keyboard');

    // By keyboard alone: the size typed, then Tab to the next controls.
    await page.keyboard.press('Control+A');
    await page.keyboard.type(String(BIG_FONT_PX));
    await page.waitForFunction((previous) => (document.querySelector('.xterm-rows > div')?.getBoundingClientRect().height ?? 0) > previous, smallRow);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'term-setting-theme');
    await page.locator('#term-setting-theme').selectOption('light');
    await page.waitForFunction((white) => getComputedStyle(document.querySelector('.xterm-scrollable-element') ?? document.body).backgroundColor === white, WHITE);
    assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('terminal') ?? document.body).backgroundColor), WHITE, 'the area around the cells too');
    await page.locator('#term-setting-cursor').selectOption('bar');
    await page.locator('#term-setting-blink').uncheck();

    // Esc closes the menu and gives the keyboard back to the terminal, never to the VM.
    await page.keyboard.press('Escape');
    await page.locator('#term-settings').waitFor({ state: 'hidden' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await focusIsInTerminal(page), true, 'the terminal has the keyboard again');
    await page.locator('.xterm-cursor-bar').waitFor();
    assert.equal(await page.locator('.xterm-cursor-blink').count(), 0, 'the cursor no longer blinks');

    const after = await sttySize(page, 'AFTER');
    assert.ok(after.rows < before.rows && after.cols < before.cols, `the PTY follows the bigger font: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    const bigRow = await rowHeight(page);

    await page.reload();
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    assert.equal(await terminalBackground(page), WHITE, 'still light after the reload');
    assert.equal(await rowHeight(page), bigRow, 'still the bigger font after the reload');
    await page.locator('#term-settings-toggle').click();
    assert.equal(await page.locator('#term-setting-font-size').inputValue(), String(BIG_FONT_PX));
    assert.equal(await page.locator('#term-setting-theme').inputValue(), 'light');
    assert.equal(await page.locator('#term-setting-cursor').inputValue(), 'bar');
    assert.equal(await page.locator('#term-setting-blink').isChecked(), false);
    // A click elsewhere closes it too, without taking the focus anywhere.
    await page.locator('#terminal').click();
    await page.locator('#term-settings').waitFor({ state: 'hidden' });
    const reloaded = await sttySize(page, 'RELOADED');
    assert.deepEqual(reloaded, after, 'the PTY keeps the size of the remembered font');
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
    await close();
  });

  test('a size out of bounds is not applied, and leaving the field shows the size that holds', async () => {
    const { page, errors, close } = await openTerminal();
    const row = await rowHeight(page);
    await page.locator('#term-settings-toggle').click();
    await page.locator('#term-setting-font-size').fill('400');
    await page.locator('#term-setting-theme').focus();
    assert.equal(await page.locator('#term-setting-font-size').inputValue(), '14');
    assert.equal(await rowHeight(page), row);
    assert.deepEqual(errors, []);
    await close();
  });

  /** The values the frame's Settings menu shows: what the terminal uses now. */
  async function shownSettings(frame: Frame): Promise<Record<string, string>> {
    await frame.locator('#term-settings-toggle').click();
    const values = {
      fontSize: await frame.locator('#term-setting-font-size').inputValue(),
      theme: await frame.locator('#term-setting-theme').inputValue(),
      cursor: await frame.locator('#term-setting-cursor').inputValue(),
      font: await frame.locator('#term-setting-font').inputValue(),
    };
    await frame.locator('#term-settings-toggle').click();
    return values;
  }

  async function embed(page: Page, attributes: string): Promise<Frame> {
    const { url } = await launchOk(gw, { userId: world.users.developer.id, buildId: world.builds.linuxRunning, kind: 'ssh', parentOrigin: dashboard.origin });
    await page.goto(dashboard.show(dashboardPage(gw, `<porthole-terminal id="term" src="${attr(url)}" ${attributes}></porthole-terminal>`)));
    const frame = await (await page.locator('#term iframe').elementHandle())?.contentFrame();
    assert.ok(frame, 'the element framed the terminal');
    await frame.locator('#conn-state[data-state="connected"]').waitFor();
    return frame;
  }

  test("an embedding dashboard's attributes apply at load and win over the user's choice when they change; invalid ones are ignored", async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);

    // The dashboard's attributes apply at load; CSS in the font is ignored, so that one is the default.
    const frame = await embed(page, `font-size="11" theme="light" cursor-style="underline" font-family="${attr('x"; } body { display: none')}"`);
    await frame.locator('#terminal[data-theme="light"]').waitFor();
    assert.deepEqual(await shownSettings(frame), { fontSize: '11', theme: 'light', cursor: 'underline', font: 'system' });
    assert.equal(await frame.evaluate(() => window.location.hash), '', 'the settings left the address bar with the token');

    // The user's own choice in the frame (remembered where the browser lets a third-party frame keep
    // storage, Chromium's incognito profile here does not)...
    await frame.locator('#term-settings-toggle').click();
    await frame.locator('#term-setting-font-size').fill('18');
    await frame.locator('#term-setting-theme').selectOption('dark');
    await frame.locator('#term-setting-font').selectOption('courier');
    await frame.locator('#terminal[data-theme="dark"]').waitFor();
    await frame.locator('#term-settings-toggle').click();
    // ...gives way to the dashboard's as soon as it sets them again: a changed attribute reaches the frame.
    await page.evaluate(() => {
      const element = document.querySelector('#term');
      element?.setAttribute('theme', 'light');
      element?.setAttribute('font-size', '12');
    });
    await frame.locator('#terminal[data-theme="light"]').waitFor();
    await frame.waitForFunction(() => {
      const toggle = document.querySelector<HTMLButtonElement>('#term-settings-toggle');
      toggle?.click();
      const size = document.querySelector<HTMLInputElement>('#term-setting-font-size')?.value;
      toggle?.click();
      return size === '12';
    });
    // An attribute removed gives the user's choice back; the font was the user's all along.
    await page.evaluate(() => document.querySelector('#term')?.removeAttribute('font-size'));
    await frame.waitForFunction(() => {
      const toggle = document.querySelector<HTMLButtonElement>('#term-settings-toggle');
      toggle?.click();
      const size = document.querySelector<HTMLInputElement>('#term-setting-font-size')?.value;
      toggle?.click();
      return size === '18';
    });
    assert.deepEqual(await shownSettings(frame), { fontSize: '18', theme: 'light', cursor: 'underline', font: 'courier' });
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
    await context.close();
  });
});
