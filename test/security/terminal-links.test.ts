/**
 * OSC 8 hyperlinks from a hostile VM, in Chromium against the real terminal page. The VM chooses
 * both a link's text and its hidden target, so a link can read "https://accounts.example.com/login"
 * and go elsewhere. Hovering must show the real target; clicking such a lure must ask first, in
 * the page's own dialog, and open nothing until confirmed; a link whose text is not an address
 * opens at once. Whatever opens has no opener and no referrer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

const UI_TIMEOUT_MS = 20_000;
const LURE_TEXT = 'https://accounts.example.com/login';
const BENIGN_TEXT = 'open-the-build-log';

let sshd: SshdHandle;
let gw: TestGateway;
let world: World;
let browser: Browser;

before(async () => {
  sshd = await startSshd();
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
  // The DOM renderer, so rows can be found by their text.
  browser = await launchChromium(['--disable-3d-apis']);
});
after(async () => {
  await browser.close();
  await gw.close();
  await sshd.stop();
});

function osc8(target: string, text: string): string {
  return `printf '\\033]8;;${target}\\033\\\\${text}\\033]8;;\\033\\\\\\n'`;
}

async function pointAt(page: Page, text: string): Promise<{ x: number; y: number }> {
  const row = page.locator('.xterm-rows > div').filter({ hasText: text }).first();
  const box = await row.boundingBox();
  assert.ok(box, `row with ${text}`);
  // The link starts in column 0; a few cells in is on it.
  return { x: box.x + 20, y: box.y + box.height / 2 };
}

/** xterm.js finds links on mouse moves; a click counts only once the link under it is known. */
async function hoverLink(page: Page, at: { x: number; y: number }, target: string): Promise<void> {
  await page.mouse.move(at.x, at.y);
  await page.locator(`#term-link-preview:not([hidden])[data-target="${target}"]`).waitFor();
}

describe('OSC 8 links', () => {
  test('a lure shows its real target on hover and asks before opening; a plain link opens at once', async () => {
    const lureTarget = `${gw.url}/healthz?from=lure`;
    const benignTarget = `${gw.url}/healthz?from=benign`;
    const script = `/tmp/porthole-links-${randomBytes(6).toString('hex')}.sh`;
    writeFileSync(script, ['#!/bin/sh', osc8(lureTarget, LURE_TEXT), osc8(benignTarget, BENIGN_TEXT), 'echo links-done-$((6*7))'].join('\n'));
    chmodSync(script, 0o755);

    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const incidents: string[] = [];
    page.on('dialog', (dialog) => {
      incidents.push(`native dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => incidents.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') incidents.push(`console: ${message.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective}`));
    });
    const opened: Page[] = [];
    context.on('page', (p) => opened.push(p));
    const nextOpened = async (): Promise<Page> => {
      const p = await context.waitForEvent('page');
      await p.waitForLoadState('domcontentloaded');
      return p;
    };

    try {
      await signInThroughForm(page, gw.url, world.users.developer, '/builds/build-linux/terminal');
      await page.locator('#conn-state[data-state="connected"]').waitFor();
      await page.locator('.xterm-helper-textarea').focus();
      await page.keyboard.type(`PS1='$ '; unset PROMPT_COMMAND; sh ${script}`);
      await page.keyboard.press('Enter');
      await page.locator('.xterm-rows > div').filter({ hasText: /^\s*links-done-42\s*$/ }).first().waitFor();

      // Hover: the real target, marked as not what the text says.
      const lure = await pointAt(page, LURE_TEXT);
      await page.mouse.move(lure.x, lure.y);
      const preview = page.locator('#term-link-preview');
      await preview.and(page.locator(':not([hidden])')).waitFor();
      assert.equal(await preview.getAttribute('data-target'), lureTarget);
      assert.match((await preview.textContent()) ?? '', /^Opens http:\/\/127\.0\.0\.1:\d+\/healthz\?from=lure — not the address the text shows$/);
      assert.equal(await preview.getAttribute('role'), 'tooltip');
      // Leaving the link (for a plain row of output) hides it.
      const plain = await pointAt(page, 'links-done-42');
      await page.mouse.move(plain.x, plain.y);
      await preview.and(page.locator('[hidden]')).waitFor({ state: 'attached' });

      // Click: the page's own modal dialog, naming both addresses as text; Cancel has the focus.
      await hoverLink(page, lure, lureTarget);
      await page.mouse.click(lure.x, lure.y);
      const dialog = page.getByRole('dialog', { name: 'Open a different address?' });
      await dialog.waitFor();
      assert.equal(await page.locator('#link-confirm-shown').textContent(), LURE_TEXT);
      assert.equal(await page.locator('#link-confirm-target').textContent(), lureTarget);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'link-confirm-cancel');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea')), true, 'focus back in the terminal');

      // A link whose text is no address opens at once, previewed without a warning.
      const benign = await pointAt(page, BENIGN_TEXT);
      await hoverLink(page, benign, benignTarget);
      assert.equal(await preview.textContent(), `Opens ${benignTarget}`);
      const benignOpened = nextOpened();
      await page.mouse.click(benign.x, benign.y);
      const benignPage = await benignOpened;
      assert.equal(benignPage.url(), benignTarget);
      // The cancelled lure opened nothing: the plain link's tab is the only one so far.
      assert.deepEqual(opened.map((p) => p.url()), [benignTarget]);
      assert.deepEqual(await benignPage.evaluate(() => ({ opener: window.opener as unknown, referrer: document.referrer })), { opener: null, referrer: '' });

      // Confirmed, the lure opens its real target, also without an opener or referrer.
      await hoverLink(page, lure, lureTarget);
      await page.mouse.click(lure.x, lure.y);
      await dialog.waitFor();
      assert.equal(opened.length, 1, 'nothing opens while the question is open');
      const lureOpened = nextOpened();
      await page.locator('#link-confirm-open').click();
      const lurePage = await lureOpened;
      assert.equal(lurePage.url(), lureTarget);
      assert.deepEqual(await lurePage.evaluate(() => ({ opener: window.opener as unknown, referrer: document.referrer })), { opener: null, referrer: '' });
      await dialog.waitFor({ state: 'detached' });
      assert.equal(page.url(), `${gw.url}/builds/build-linux/terminal`);
      assert.deepEqual(incidents, []);
    } finally {
      rmSync(script, { force: true });
      await context.close();
    }
  });
});
