/**
 * The demo's embedding example in Chromium (issue #21, "Delivery"): the page on the second loopback
 * site gets a launch URL from its backend, frames the owner's terminal with the SDK, and the
 * terminal reaches the demo VM's shell; the screen frames too. Third-party cookies are blocked, as
 * for many real users.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Frame, Page } from 'playwright-core';
import { BLOCK_THIRD_PARTY_COOKIES_ARG, launchChromium } from '../helpers/chromium.js';
import { startDemoProcess, type DemoProcess } from '../helpers/demo-process.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;

describe("the demo's embedding example", () => {
  let demo: DemoProcess;
  let browser: Browser;

  before(async () => {
    demo = await startDemoProcess();
    // Without WebGL xterm.js draws with DOM rows the test can read.
    browser = await launchChromium(['--disable-3d-apis', BLOCK_THIRD_PARTY_COOKIES_ARG]);
  });

  after(async () => {
    await browser.close();
    await demo.stop();
  });

  const waitForEventLine = async (page: Page, type: string, count: number): Promise<void> => {
    await page.waitForFunction(
      ({ type, count }) => [...document.querySelectorAll('#events li')].filter((li) => li.textContent?.startsWith(`${type} `)).length >= count,
      { type, count },
    );
  };

  const frameOf = async (page: Page, selector: string): Promise<Frame> => {
    const frame = await (await page.locator(`${selector} iframe`).elementHandle())?.contentFrame();
    assert.ok(frame, `${selector} has a frame`);
    return frame;
  };

  test("the page frames the owner's terminal, which reaches the VM's shell; the screen button frames the desktop", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // CSP violations (the example's own, or the gateway's frame-ancestors) are console errors.
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${demo.exampleOrigin}/`);

    await waitForEventLine(page, 'porthole:connected', 1);
    const terminal = await frameOf(page, 'porthole-terminal');
    assert.equal(new URL(terminal.url()).origin, demo.gateway.origin);
    await terminal.locator('.xterm').click();
    await page.keyboard.type('echo $((6*7))-typed-in-the-example');
    await page.keyboard.press('Enter');
    await terminal.locator('.xterm-rows > div').filter({ hasText: /^42-typed-in-the-example/ }).first().waitFor();

    await page.getByRole('button', { name: 'Screen (demo-macos)' }).click();
    await waitForEventLine(page, 'porthole:connected', 2);
    assert.equal(await page.locator('porthole-terminal').count(), 0, 'the terminal made way for the screen');
    const screen = await frameOf(page, 'porthole-screen');
    await screen.locator('canvas').first().waitFor();

    assert.deepEqual(errors, []);
    await context.close();
  });
});
