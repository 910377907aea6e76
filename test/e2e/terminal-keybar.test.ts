/** The terminal's touch key bar on an emulated phone, checked on a real sshd (issue #21). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, signInThroughForm, recordPageErrors, pageWidths } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type SeededUser, type World } from '../helpers/seed.js';
import { PASSWORD_USER, passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
/** A phone held upright (iPhone 12–15 class). */
const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true };

describe('terminal key bar on a touch phone', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    // Without WebGL xterm.js draws DOM rows the test can read.
    browser = await launchChromium(['--disable-3d-apis']);
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser.close();
    await gw.close();
    await sshd.stop();
  });

  async function openTerminal(user: SeededUser, path: string, options: Parameters<Browser['newContext']>[0] = PHONE): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext(options);
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);
    await signInThroughForm(page, gw.url, user, path);
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors };
  }

  const row = (page: Page, expect: RegExp): ReturnType<Page['locator']> => page.locator('.xterm-rows > div').filter({ hasText: expect }).first();
  const key = (page: Page, name: string): ReturnType<Page['locator']> => page.locator(`#term-keybar .term-key[data-key="${name}"]`);
  const focusIsInTerminal = (page: Page): Promise<boolean> => page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea') === true);

  /**
   * Runs `head -c <count>` in raw mode on the VM, writing what the page sends to a file, while
   * `send` taps and types; returns the bytes exactly as the VM got them.
   */
  async function capture(page: Page, tag: string, count: number, send: () => Promise<void>, setup = ''): Promise<string> {
    const file = `/home/${PASSWORD_USER}/keybar-${randomBytes(4).toString('hex')}`;
    try {
      await page.keyboard.type(`${setup}stty raw -echo; printf '${tag}-%s\\r\\n' $((40+2)); head -c ${count} > ${file}; stty sane; echo "${tag}-done-$((40+2))"`);
      await page.keyboard.press('Enter');
      // The tty is raw once this prints: nothing typed after it is a signal or echoed.
      await row(page, new RegExp(`^\\s*${tag}-42\\s*$`)).waitFor();
      await send();
      await row(page, new RegExp(`^\\s*${tag}-done-42\\s*$`)).waitFor();
      return readFileSync(file, 'latin1');
    } finally {
      rmSync(file, { force: true });
    }
  }

  test('the bar sends Esc, Tab, arrows, | ~ / and a sticky Ctrl and Alt as xterm.js would, without taking the focus', async () => {
    const { page, errors } = await openTerminal(world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`);
    await page.locator('#term-keybar').waitFor();
    assert.equal(await page.locator('#term-keys-toggle').getAttribute('aria-pressed'), 'true');
    const { scrollWidth, clientWidth } = await pageWidths(page);
    assert.ok(scrollWidth <= clientWidth, `no sideways scroll at 390 px: ${scrollWidth} > ${clientWidth}`);
    const bar = await page.locator('#term-keybar').boundingBox();
    assert.ok(bar && bar.x >= 0 && bar.x + bar.width <= PHONE.viewport.width, `the bar fits the screen: ${JSON.stringify(bar)}`);

    const ctrl = key(page, 'ctrl');
    const got = await capture(page, 'KEYS', 21, async () => {
      for (const name of ['Escape', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowRight', 'ArrowLeft', '|', '~', '/']) await key(page, name).tap();
      await ctrl.tap();
      assert.equal(await ctrl.getAttribute('aria-pressed'), 'true', 'Ctrl is latched');
      assert.equal(await ctrl.evaluate((el) => el.classList.contains('is-latched')), true, 'and shows it');
      // The soft keyboard's next key takes Ctrl, once.
      await page.keyboard.type('c');
      assert.equal(await ctrl.getAttribute('aria-pressed'), 'false', 'Ctrl is released after one key');
      await page.keyboard.type('c');
      await key(page, 'alt').tap();
      await key(page, '/').tap();
      assert.equal(await focusIsInTerminal(page), true, 'tapping the bar never took the focus from the terminal');
    });
    assert.equal(JSON.stringify(got), JSON.stringify('\x1b\t\x1b[A\x1b[B\x1b[C\x1b[D|~/\x03c\x1b/'));

    // In application cursor mode (as vim and less ask) an arrow is ESC O; Ctrl with it the CSI form.
    const app = await capture(
      page,
      'APP',
      9,
      async () => {
        await key(page, 'ArrowUp').tap();
        await key(page, 'ctrl').tap();
        await key(page, 'ArrowLeft').tap();
      },
      "printf '\\033[?1h'; ",
    );
    assert.equal(JSON.stringify(app), JSON.stringify('\x1bOA\x1b[1;5D'));
    await page.keyboard.type("printf '\\033[?1l'");
    await page.keyboard.press('Enter');

    // Ctrl-C from the bar interrupts a program.
    await page.keyboard.type('sleep 300');
    await page.keyboard.press('Enter');
    await key(page, 'ctrl').tap();
    await page.keyboard.type('c');
    await page.keyboard.type('echo "back-$((40+2))"');
    await page.keyboard.press('Enter');
    await row(page, /^\s*back-42\s*$/).waitFor();

    // Hidden with Keys, and remembered.
    await page.locator('#term-keys-toggle').tap();
    await page.locator('#term-keybar').waitFor({ state: 'hidden' });
    await page.reload();
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    assert.equal(await page.locator('#term-keybar').isVisible(), false);
    assert.equal(await page.locator('#term-keys-toggle').getAttribute('aria-pressed'), 'false');
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
  });

  test('a watcher the owner has not let type gets a disabled bar; it works once the owner does', async () => {
    const owner = await openTerminal(world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`, { viewport: { width: 1000, height: 700 } });
    assert.equal(await owner.page.locator('#term-keybar').isVisible(), false, 'no bar on a desktop without touch');
    assert.equal(await owner.page.locator('#term-keys-toggle').isVisible(), false);
    const link = await owner.page.locator('#copy-watch-link').getAttribute('data-link');
    assert.ok(link);
    const watcher = await openTerminal(world.users.admin, new URL(link).pathname + new URL(link).search);
    await watcher.page.locator('#term-keybar').waitFor();
    await watcher.page.waitForFunction(() => [...document.querySelectorAll<HTMLButtonElement>('#term-keybar .term-key')].every((b) => b.disabled));

    await owner.page.getByRole('button', { name: /^Let .* type$/ }).click();
    await watcher.page.waitForFunction(() => [...document.querySelectorAll<HTMLButtonElement>('#term-keybar .term-key')].every((b) => !b.disabled));
    // The keyboard back to the owner's terminal from the button.
    await owner.page.locator('#terminal').click();
    await owner.page.keyboard.type('sleep 300');
    await owner.page.keyboard.press('Enter');
    await row(watcher.page, /sleep 300/).waitFor();
    await key(watcher.page, 'ctrl').tap();
    await key(watcher.page, '|').tap();
    // Ctrl means nothing to |: it goes as it is, and the latch is spent. Then Ctrl-C from the watcher.
    await key(watcher.page, 'ctrl').tap();
    await watcher.page.keyboard.type('c');
    await owner.page.keyboard.type('echo "watched-$((40+2))"');
    await owner.page.keyboard.press('Enter');
    await row(owner.page, /^\s*watched-42\s*$/).waitFor();
    assert.deepEqual(watcher.errors, []);
  });
});
