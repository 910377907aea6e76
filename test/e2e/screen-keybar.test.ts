/**
 * The screen page's keys in a real browser against a real Xvnc (issue #21): the touch key bar on
 * a phone-sized touch context, the soft keyboard's field, the page's width at 390 px, and the
 * clipboard panel's Esc and Send on a desktop. What reaches the VM is read from the RFB messages
 * the page sent (helpers/rfb-keys.ts), and typed text from its effect in the desktop's terminal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, recordPageErrors, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { pollUntil } from '../helpers/ports.js';
import { describeKeys, keyEventsSent, recordSentFrames } from '../helpers/rfb-keys.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
/** An iPhone 12–15's CSS viewport: the width issue #21 was tried at. */
const PHONE = { width: 390, height: 844 } as const;
const DESKTOP = { width: 1280, height: 900 } as const;
/** RFB ClientCutText (RFC 6143 §7.5.6), the clipboard panel's Send. */
const CLIENT_CUT_TEXT = 6;
const ESCAPE = 0xff1b;
const SHIFT_L = 0xffe1;

interface ScreenPage {
  readonly page: Page;
  readonly errors: string[];
  /** Key events sent on the page's current screen socket so far. */
  keys(): string[];
  /** Every binary frame sent on it. */
  frames(): Buffer[];
}

describe("the screen's key bar and clipboard panel in Chromium", () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    xvnc = await startXvnc({ terminalWindow: true });
    gw = await startGateway();
    world = await seedWorld(gw, { vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    browser = await launchChromium();
  });
  after(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser.close();
    await gw.close();
    await xvnc.stop();
  });

  async function openScreen(device: 'phone' | 'desktop'): Promise<ScreenPage> {
    const context = await browser.newContext(device === 'phone' ? { viewport: PHONE, hasTouch: true, isMobile: true } : { viewport: DESKTOP });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);
    const sent = recordSentFrames(page);
    await signInThroughForm(page, gw.url, world.users.owner, `/builds/${world.builds.macRunning}/screen`);
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors, keys: () => describeKeys(keyEventsSent(sent())), frames: sent };
  }

  /** The key events sent after `from`, once there are `count` of them. */
  async function nextKeys(screen: ScreenPage, from: number, count: number): Promise<string[]> {
    await pollUntil(`${count} key events`, UI_TIMEOUT_MS, async () => screen.keys().length >= from + count);
    return screen.keys().slice(from);
  }

  async function focusedId(page: Page): Promise<string> {
    return page.evaluate(() => {
      const el = document.activeElement;
      if (el instanceof HTMLCanvasElement && el.closest('#screen')) return 'canvas';
      return el?.id ?? '';
    });
  }

  test('on a phone the key bar sends Esc, Tab, Ctrl, Alt and ⌘ as X keysyms; a modifier latches for one key; taps leave focus alone', async () => {
    const screen = await openScreen('phone');
    const { page } = screen;
    const bar = page.getByRole('toolbar', { name: 'Keys for the VM' });
    await bar.waitFor();
    assert.equal(await focusedId(page), 'canvas', 'the screen has the keyboard after connecting');
    // The VM's pointer onto the bare desktop: with no window manager, keys follow it, and these
    // (Esc is readline's Meta prefix) must not reach the terminal the next test types into.
    await page.locator('#screen canvas').tap({ position: { x: 2, y: 2 } });

    let from = screen.keys().length;
    await bar.getByRole('button', { name: 'Esc' }).tap();
    assert.deepEqual(await nextKeys(screen, from, 2), ['down 0xff1b', 'up 0xff1b']);
    from = screen.keys().length;
    await bar.getByRole('button', { name: 'Tab' }).tap();
    assert.deepEqual(await nextKeys(screen, from, 2), ['down 0xff09', 'up 0xff09']);
    assert.equal(await focusedId(page), 'canvas', 'a tap on the bar does not take focus from the screen');

    const ctrl = bar.getByRole('button', { name: 'Ctrl', exact: true });
    await ctrl.tap();
    assert.equal(await ctrl.getAttribute('aria-pressed'), 'true', 'a latched modifier shows');
    assert.equal(screen.keys().length, from + 2, 'a latch alone sends nothing');
    await bar.getByRole('button', { name: 'Tab' }).tap();
    assert.deepEqual(await nextKeys(screen, from + 2, 4), ['down 0xffe3', 'down 0xff09', 'up 0xff09', 'up 0xffe3'], 'Control_L held around Tab');
    assert.equal(await ctrl.getAttribute('aria-pressed'), 'false', 'the latch lets go after one key');
    from = screen.keys().length;
    await bar.getByRole('button', { name: 'Tab' }).tap();
    assert.deepEqual(await nextKeys(screen, from, 2), ['down 0xff09', 'up 0xff09'], 'the next key goes without Ctrl');

    // Two latches at once; a second tap on one lets it go.
    const command = bar.getByRole('button', { name: '⌘ Command' });
    const alt = bar.getByRole('button', { name: 'Alt' });
    await command.tap();
    await alt.tap();
    await ctrl.tap();
    await ctrl.tap();
    assert.deepEqual([await command.getAttribute('aria-pressed'), await alt.getAttribute('aria-pressed'), await ctrl.getAttribute('aria-pressed')], ['true', 'true', 'false']);
    from = screen.keys().length;
    await bar.getByRole('button', { name: 'Esc' }).tap();
    assert.deepEqual(await nextKeys(screen, from, 6), ['down 0xffe9', 'down 0xffeb', 'down 0xff1b', 'up 0xff1b', 'up 0xffeb', 'up 0xffe9'], 'Alt_L and Super_L (⌘) held around Esc');
    assert.equal(await focusedId(page), 'canvas');

    // The shortcuts menu stays, beside the bar.
    from = screen.keys().length;
    await page.locator('#special-keys').selectOption('cmd-space');
    assert.deepEqual(await nextKeys(screen, from, 4), ['down 0xffeb', 'down 0x20', 'up 0x20', 'up 0xffeb']);
    assert.deepEqual(screen.errors, []);
  });

  test('Show keyboard focuses the soft keyboard’s field; what it types, with a latched Ctrl, reaches the VM', async () => {
    const screen = await openScreen('phone');
    const { page } = screen;
    const terminal = xvnc.terminal;
    assert.ok(terminal);
    const showKeyboard = page.getByRole('button', { name: 'Show keyboard' });
    await showKeyboard.tap();
    assert.equal(await focusedId(page), 'screen-keyboard-input');
    assert.equal(await showKeyboard.getAttribute('aria-pressed'), 'true');

    // A tap on the desktop clicks there (into its terminal) and keeps the soft keyboard up.
    const canvas = page.locator('#screen canvas');
    const box = await canvas.boundingBox();
    assert.ok(box);
    const scale = box.width / xvnc.width;
    await canvas.tap({ position: { x: (terminal.x + terminal.width / 2) * scale, y: (terminal.y + terminal.height / 2) * scale } });
    assert.equal(await focusedId(page), 'screen-keyboard-input', 'the tap kept the soft keyboard up');

    // A soft keyboard sends no keydown for characters, only the field's input events.
    const marker = `/tmp/porthole-keybar-${randomBytes(6).toString('hex')}`;
    let from = screen.keys().length;
    await page.keyboard.insertText(`touch ${marker}`);
    const typed = await nextKeys(screen, from, 2 * `touch ${marker}`.length);
    assert.deepEqual(typed.slice(0, 4), ['down 0x74', 'up 0x74', 'down 0x6f', 'up 0x6f'], 't, o… as their keysyms');
    from = screen.keys().length;
    await page.keyboard.press('Enter');
    assert.deepEqual(await nextKeys(screen, from, 2), ['down 0xff0d', 'up 0xff0d'], 'Return');
    await pollUntil('the file the typed command creates on the VM', UI_TIMEOUT_MS, async () => existsSync(marker));

    // A soft keyboard's Backspace: the field's filler is what it deletes.
    from = screen.keys().length;
    await page.evaluate(() => {
      const field = document.querySelector<HTMLTextAreaElement>('#screen-keyboard-input');
      if (!field) throw new Error('no keyboard field');
      field.value = field.value.slice(0, -1);
      field.dispatchEvent(new InputEvent('input', { inputType: 'deleteContentBackward', bubbles: true }));
    });
    assert.deepEqual(await nextKeys(screen, from, 2), ['down 0xff08', 'up 0xff08']);

    const ctrl = page.locator('#screen-keys').getByRole('button', { name: 'Ctrl', exact: true });
    await ctrl.tap();
    assert.equal(await focusedId(page), 'screen-keyboard-input', 'latching Ctrl leaves the soft keyboard up');
    from = screen.keys().length;
    await page.keyboard.insertText('c');
    assert.deepEqual(await nextKeys(screen, from, 4), ['down 0xffe3', 'down 0x63', 'up 0x63', 'up 0xffe3'], 'Ctrl+C');
    assert.equal(await ctrl.getAttribute('aria-pressed'), 'false');

    await showKeyboard.tap();
    assert.notEqual(await focusedId(page), 'screen-keyboard-input', 'a second tap lowers the soft keyboard');
    assert.equal(await showKeyboard.getAttribute('aria-pressed'), 'false');
    assert.deepEqual(screen.errors, []);
  });

  test('at 390 px the screen page never scrolls sideways; the key bar hides for view only and on request', async () => {
    const screen = await openScreen('phone');
    const { page } = screen;
    const bar = page.locator('#screen-keys');
    await bar.waitFor();
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const outside = [...document.body.querySelectorAll<HTMLElement>('*')]
        .filter((el) => el.getClientRects().length > 0 && el.getBoundingClientRect().right > width + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
      return { width, scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth, outside };
    });
    assert.equal(overflow.width, PHONE.width);
    assert.ok(overflow.scrollWidth <= overflow.width && overflow.bodyScrollWidth <= overflow.width, JSON.stringify(overflow));
    assert.deepEqual(overflow.outside, [], 'every element within the viewport');
    const buttons = await bar.getByRole('button').all();
    assert.equal(buttons.length, 6);
    for (const button of buttons) {
      const box = await button.boundingBox();
      assert.ok(box && box.height >= 44 && box.width >= 44, `a thumb-sized ${await button.textContent()}`);
    }

    const toggle = page.getByRole('button', { name: 'Key bar' });
    await toggle.tap();
    await bar.waitFor({ state: 'hidden' });
    await toggle.tap();
    await bar.waitFor();

    const viewOnly = page.locator('#view-only-toggle');
    await viewOnly.tap();
    await bar.waitFor({ state: 'hidden' });
    assert.equal(await toggle.isHidden(), true, 'a view-only screen offers no keys at all');
    await viewOnly.tap();
    await bar.waitFor();
    assert.deepEqual(screen.errors, []);
  });

  test('the clipboard panel: Esc closes it and never reaches the VM; Send to VM closes it and gives the screen the keyboard', async () => {
    const screen = await openScreen('desktop');
    const { page } = screen;
    assert.equal(await page.locator('#screen-keys').isHidden(), true, 'no key bar without touch');
    assert.equal(await page.locator('#keybar-toggle').isHidden(), true);
    const toggle = page.getByRole('button', { name: 'Clipboard' });
    const panel = page.locator('#clipboard-panel');

    await toggle.click();
    assert.equal(await focusedId(page), 'clipboard-text');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await focusedId(page), 'clipboard-toggle', 'focus back on the button that opened it');
    // A key the screen does send, after the Esc: once it is out, an Esc sent before it would be too.
    await page.locator('#screen canvas').click({ position: { x: 5, y: 5 } });
    const from = screen.keys().length;
    await page.keyboard.press('Shift');
    await pollUntil('Shift_L from the screen', UI_TIMEOUT_MS, async () => keyEventsSent(screen.frames()).slice(from).some((k) => k.keysym === SHIFT_L));
    assert.equal(keyEventsSent(screen.frames()).some((k) => k.keysym === ESCAPE), false, 'no Escape keysym reached the VM');

    await toggle.click();
    await page.locator('#clipboard-text').fill('from the panel');
    await page.getByRole('button', { name: 'Send to VM' }).click();
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await focusedId(page), 'canvas', 'the screen has the keyboard again');
    await page.getByText('Sent to the VM’s clipboard').waitFor();
    assert.ok(screen.frames().some((frame) => frame[0] === CLIENT_CUT_TEXT), 'the text went out as ClientCutText');
    // With the panel closed, Esc is for the VM: the observer above would have seen it.
    await page.keyboard.press('Escape');
    await pollUntil('Escape from the screen', UI_TIMEOUT_MS, async () => keyEventsSent(screen.frames()).some((k) => k.keysym === ESCAPE));
    assert.deepEqual(screen.errors, []);
  });
});
