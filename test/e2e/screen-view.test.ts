/**
 * The screen page's view and link controls in Chromium against a real Xvnc (issue #19): "Fit to
 * window" and "1:1 pixels" on a HiDPI display (deviceScaleFactor 2), where 1:1 means one VM pixel
 * per device pixel and a click still lands on the VM pixel under it; the VM's resolution and the
 * link readout in the status. Cmd ↔ Ctrl is checked on the VM itself (screen-keys.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, recordPageErrors, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { pollUntil } from '../helpers/ports.js';
import { runCommand } from '../helpers/daemon.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
const VIEWPORT = { width: 1280, height: 900 } as const;
/** A Retina/HiDPI display: two device pixels to a CSS pixel each way. */
const HIDPI = 2;
/** Narrower than the desktop at 1:1 device pixels (1024 VM px = 512 CSS px), so it scrolls sideways. */
const NARROW_WIDTH = 400;

interface ScreenPage {
  readonly page: Page;
  readonly errors: string[];
}

describe("the screen's view and link readout in Chromium", () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  let context: BrowserContext;
  let signedIn = false;

  before(async () => {
    xvnc = await startXvnc({ terminalWindow: true });
    gw = await startGateway();
    world = await seedWorld(gw, { vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: HIDPI });
  });
  after(async () => {
    await context.close();
    await browser.close();
    await gw.close();
    await xvnc.stop();
  });

  /** Signs in on a new page, or reloads `existing`; resolves once the desktop is shown. */
  async function openScreen(existing?: Page): Promise<ScreenPage> {
    const page = existing ?? (await context.newPage());
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);
    const path = `/builds/${world.builds.macRunning}/screen`;
    if (existing) await page.reload();
    else if (signedIn) await page.goto(`${gw.url}${path}`);
    else await signInThroughForm(page, gw.url, world.users.owner, path);
    // One context for the file: its cookie and localStorage outlive each page.
    signedIn = true;
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors };
  }

  async function canvasCssWidth(page: Page): Promise<number> {
    return page.locator('#screen canvas').evaluate((canvas) => canvas.getBoundingClientRect().width);
  }

  async function pointerLocation(): Promise<{ x: number; y: number }> {
    const { stdout } = await runCommand('/usr/bin/xdotool', ['getmouselocation'], { env: { ...process.env, DISPLAY: `:${xvnc.display}` } });
    const match = /x:(\d+) y:(\d+)/.exec(stdout.toString());
    assert.ok(match, stdout.toString());
    return { x: Number(match[1]), y: Number(match[2]) };
  }

  test('at devicePixelRatio 2, 1:1 pixels shows one VM pixel per device pixel, clicks land on the VM pixel, and the choice is remembered; Fit fits', async () => {
    const screen = await openScreen();
    const { page } = screen;
    const canvas = page.locator('#screen canvas');
    assert.equal(await page.evaluate(() => window.devicePixelRatio), HIDPI);
    assert.equal(await page.locator('#view-mode').inputValue(), 'fit', 'fitted by default');
    await page.locator('#screen-resolution').filter({ hasText: `${xvnc.width}×${xvnc.height}` }).waitFor();

    const host = await page.locator('#screen').boundingBox();
    const fitted = await canvas.boundingBox();
    assert.ok(host && fitted);
    assert.ok(fitted.width <= host.width + 0.5 && fitted.height <= host.height + 0.5, 'fitted within the screen area');
    assert.ok(Math.abs(fitted.width - host.width) < 1 || Math.abs(fitted.height - host.height) < 1, 'and filling it one way');

    await page.locator('#view-mode').selectOption('pixels');
    await pollUntil('the canvas at half the VM width in CSS pixels', UI_TIMEOUT_MS, async () => (await canvasCssWidth(page)) === xvnc.width / HIDPI);
    const box = await canvas.boundingBox();
    assert.ok(box);
    assert.equal(box.height, xvnc.height / HIDPI);
    // Both odd, so a mapping off by the device pixel ratio cannot land there by chance.
    const target = { x: 301, y: 203 };
    await canvas.click({ position: { x: target.x / HIDPI, y: target.y / HIDPI } });
    await pollUntil('the VM pointer at the clicked pixel', UI_TIMEOUT_MS, async () => {
      const at = await pointerLocation();
      return Math.abs(at.x - target.x) <= 1 && Math.abs(at.y - target.y) <= 1;
    });

    // Crisp: the browser shows the canvas at the VM's own pixel size, each pixel as the VM drew it.
    await page.mouse.move(0, 0);
    // The canvas may sit at a fraction of a device pixel (centred in the screen area); the browser
    // snaps it to the device pixel grid, and so does the clip.
    const snap = (css: number): number => Math.round(css * HIDPI) / HIDPI;
    const shot = (
      await page.screenshot({ scale: 'device', clip: { x: snap(box.x), y: snap(box.y), width: xvnc.width / HIDPI, height: xvnc.height / HIDPI } })
    ).toString('base64');
    const compared = await page.evaluate(async (png) => {
      const image = new Image();
      image.src = `data:image/png;base64,${png}`;
      await image.decode();
      const drawn = document.createElement('canvas');
      drawn.width = image.naturalWidth;
      drawn.height = image.naturalHeight;
      const context = drawn.getContext('2d');
      const source = document.querySelector<HTMLCanvasElement>('#screen canvas');
      if (!context || !source) throw new Error('no canvas');
      context.drawImage(image, 0, 0);
      const shown = context.getImageData(0, 0, drawn.width, drawn.height).data;
      const vm = source.getContext('2d')?.getImageData(0, 0, source.width, source.height).data;
      let differing = 0;
      if (vm && vm.length === shown.length) for (let i = 0; i < vm.length; i += 4) if (vm[i] !== shown[i] || vm[i + 1] !== shown[i + 1] || vm[i + 2] !== shown[i + 2]) differing += 1;
      return { width: drawn.width, height: drawn.height, differing };
    }, shot);
    assert.deepEqual(compared, { width: xvnc.width, height: xvnc.height, differing: 0 }, 'one device pixel per VM pixel, none blended');

    // A window narrower than the desktop: the browser's scrollbar pans it, and a click on a pixel
    // scrolled into view still lands on that VM pixel.
    await page.setViewportSize({ width: NARROW_WIDTH, height: VIEWPORT.height });
    const scroller = page.locator('#screen > div');
    await pollUntil('the desktop scrolling inside the narrower window', UI_TIMEOUT_MS, async () => scroller.evaluate((el) => el.scrollWidth > el.clientWidth));
    assert.equal(await canvasCssWidth(page), xvnc.width / HIDPI, 'still 1:1 after the resize');
    // Scrolled by the page's own scrollbar (as a user would), then clicked where the pixel now is.
    await scroller.evaluate((el) => el.scrollTo(el.scrollWidth, 0));
    await pollUntil('the desktop scrolled to its right edge', UI_TIMEOUT_MS, async () => scroller.evaluate((el) => el.scrollLeft > 0));
    const far = { x: 901, y: 203 };
    const scrolled = await canvas.boundingBox();
    assert.ok(scrolled && scrolled.x + far.x / HIDPI < NARROW_WIDTH, `the pixel is in view: ${JSON.stringify(scrolled)}`);
    await page.mouse.click(scrolled.x + far.x / HIDPI, scrolled.y + far.y / HIDPI);
    await pollUntil('the VM pointer at the scrolled-to pixel', UI_TIMEOUT_MS, async () => {
      const at = await pointerLocation();
      return Math.abs(at.x - far.x) <= 1 && Math.abs(at.y - far.y) <= 1;
    });
    await page.setViewportSize(VIEWPORT);

    const reloaded = await openScreen(page);
    assert.equal(await page.locator('#view-mode').inputValue(), 'pixels', 'remembered across a reload');
    await pollUntil('the reloaded canvas at 1:1 device pixels', UI_TIMEOUT_MS, async () => (await canvasCssWidth(page)) === xvnc.width / HIDPI);

    await page.locator('#view-mode').selectOption('fit');
    await pollUntil('the canvas fitted again', UI_TIMEOUT_MS, async () => Math.abs((await canvasCssWidth(page)) - fitted.width) < 1);
    assert.deepEqual([...screen.errors, ...reloaded.errors], []);
    await page.close();
  });

  test('the link readout shows frames per second while the desktop changes, bytes per second and the round trip', async () => {
    const screen = await openScreen();
    const { page } = screen;
    const readout = page.locator('#screen-link');
    await readout.waitFor();
    assert.equal(await readout.getAttribute('aria-live'), 'off', 'not read out each second');
    // Each poll repaints the VM's root window a new colour: a desktop that keeps changing.
    let shade = 0;
    await pollUntil('a non-zero frame rate and a round trip', UI_TIMEOUT_MS, async () => {
      shade = (shade + 1) % 256;
      await runCommand('/usr/bin/xsetroot', ['-solid', `#20${shade.toString(16).padStart(2, '0')}80`], { env: { ...process.env, DISPLAY: `:${xvnc.display}` } });
      const text = (await readout.textContent()) ?? '';
      return /^[1-9]\d* fps · \d+(\.\d)? (B|KB|MB)\/s · \d+ ms$/.test(text);
    });
    // A solid repaint is one Tight fill rectangle: a few bytes, but not none.
    assert.doesNotMatch((await readout.textContent()) ?? '', / 0 B\/s/, 'the repaints’ bytes are counted');
    assert.deepEqual(screen.errors, []);
    await page.close();
  });
});
