/** The screen page in a real browser against a real Xvnc, the VNC password held by the gateway. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { freePort, pollUntil } from '../helpers/ports.js';
import { startTarpit } from '../helpers/tarpit.js';

const UI_TIMEOUT_MS = 20_000;
const BACKGROUND = '#336699';

describe('screen page in Chromium', () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;

  before(async () => {
    xvnc = await startXvnc({ terminalWindow: true, background: BACKGROUND });
    gw = await startGateway();
    world = await seedWorld(gw, { vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await gw.close();
    await xvnc.stop();
  });

  async function openScreen(existing?: Page): Promise<{ page: Page; errors: string[]; frames: string[]; sent: Buffer[] }> {
    const page = existing ?? (await browser.newPage({ viewport: { width: 1280, height: 900 } }));
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors: string[] = [];
    const frames: string[] = [];
    const sent: Buffer[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('websocket', (ws) => {
      ws.on('framesent', (frame) => {
        frames.push(typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('latin1'));
        if (typeof frame.payload !== 'string') sent.push(frame.payload);
      });
      ws.on('framereceived', (frame) => frames.push(typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('latin1')));
    });
    if (existing) {
      await page.reload();
    } else {
      await signInThroughForm(page, gw.url, world.users.owner, '/builds/build-mac');
      await page.getByRole('link', { name: 'Open screen' }).click();
      await page.waitForURL(`${gw.url}/builds/build-mac/screen`);
    }
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors, frames, sent };
  }

  /** The encodings of every SetEncodings message (RFB client message 2) the page sent, in order. */
  function encodingsSent(sent: readonly Buffer[]): number[][] {
    const lists: number[][] = [];
    for (const message of sent) {
      if (message.length < 4 || message[0] !== 2) continue;
      const count = message.readUInt16BE(2);
      if (message.length !== 4 + 4 * count) continue;
      lists.push(Array.from({ length: count }, (_, i) => message.readInt32BE(4 + 4 * i)));
    }
    return lists;
  }

  /** RGB of a framebuffer pixel, read from noVNC's canvas (scaled to fit, so map coordinates). */
  async function pixelAt(page: Page, x: number, y: number): Promise<[number, number, number]> {
    return page.evaluate(
      ({ x, y, width }) => {
        const canvas = document.querySelector<HTMLCanvasElement>('#screen canvas');
        if (!canvas || canvas.width === 0) return [-1, -1, -1] as [number, number, number];
        const scale = canvas.width / width;
        const data = canvas.getContext('2d')?.getImageData(Math.floor(x * scale), Math.floor(y * scale), 1, 1).data;
        return [data?.[0] ?? -1, data?.[1] ?? -1, data?.[2] ?? -1] as [number, number, number];
      },
      { x, y, width: xvnc.width },
    );
  }

  test('the Quality control reaches the VM as encodings (JPEG quality and compression levels), and is remembered', async () => {
    const { page, errors, sent } = await openScreen();
    const qualityOf = (list: number[]): number | undefined => list.find((e) => e >= -32 && e <= -23);
    const compressionOf = (list: number[]): number | undefined => list.find((e) => e >= -256 && e <= -247);
    await pollUntil('the first SetEncodings', UI_TIMEOUT_MS, async () => encodingsSent(sent).length > 0);
    const first = encodingsSent(sent)[0] ?? [];
    assert.equal(await page.locator('#quality').inputValue(), 'auto', 'Auto by default');
    assert.deepEqual([qualityOf(first), compressionOf(first)], [-32 + 6, -256 + 2], 'Auto starts at Balanced');

    await page.locator('#quality').selectOption('smallest');
    await pollUntil('SetEncodings for Smallest', UI_TIMEOUT_MS, async () => qualityOf(encodingsSent(sent).at(-1) ?? []) === -32);
    assert.equal(compressionOf(encodingsSent(sent).at(-1) ?? []), -256 + 9);
    // The desktop keeps updating at the lower quality.
    await page.locator('#conn-state[data-state="connected"]').waitFor();

    // Remembered: a reload connects with Smallest from its first SetEncodings.
    const reloaded = await openScreen(page);
    await pollUntil('the first SetEncodings after the reload', UI_TIMEOUT_MS, async () => encodingsSent(reloaded.sent).length > 0);
    assert.equal(await page.locator('#quality').inputValue(), 'smallest');
    assert.equal(qualityOf(encodingsSent(reloaded.sent)[0] ?? []), -32);
    await page.locator('#quality').selectOption('balanced');
    assert.deepEqual([...errors, ...reloaded.errors], [], 'no script errors and no CSP violations');
    await page.close();
  });

  test('an unreachable screen says it could not be reached, not that a login was refused (issue #21)', async () => {
    const res = await control(gw).put('/builds/mac-unreachable', {
      appId: 'app-1',
      stack: 'macos',
      status: 'running',
      startedAt: new Date().toISOString(),
      remoteAccess: { ssh: { host: '127.0.0.1', port: 22, username: 'vagrant', password: 'x' }, vnc: { host: '127.0.0.1', port: await freePort(), password: 'whatever' } },
    });
    assert.ok(res.status < 300, JSON.stringify(res.body));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await signInThroughForm(page, gw.url, world.users.owner, '/builds/mac-unreachable/screen');
    await page.locator('#term-banner, #screen-banner, [role="status"]', { hasText: 'could not be reached' }).first().waitFor();
    assert.equal(await page.getByText('refused the screen login').count(), 0);
    await page.close();
  });

  test('"Connecting…" shows over the screen with what the gateway is doing (issue #21)', async () => {
    // A VM that accepts TCP and never speaks RFB keeps the gateway at its VNC handshake.
    const tarpit = await startTarpit();
    try {
      const res = await control(gw).put('/builds/mac-silent', {
        appId: 'app-1',
        stack: 'macos',
        status: 'running',
        startedAt: new Date().toISOString(),
        remoteAccess: { ssh: { host: '127.0.0.1', port: 22, username: 'vagrant', password: 'x' }, vnc: { host: tarpit.host, port: tarpit.port, password: 'whatever' } },
      });
      assert.ok(res.status < 300, JSON.stringify(res.body));
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      await signInThroughForm(page, gw.url, world.users.owner, '/builds/mac-silent/screen');
      const pane = page.locator('#pane-status');
      await pane.filter({ hasText: "Connecting… the gateway is opening the build VM's screen" }).waitFor();
      const box = await pane.boundingBox();
      const screen = await page.locator('#screen').boundingBox();
      assert.ok(box && screen && box.y >= screen.y && box.y + box.height <= screen.y + screen.height, 'over the screen, not in a corner');
      await page.close();
    } finally {
      await tarpit.close();
    }
  });

  test('Open screen shows the Xvnc desktop and typing reaches its terminal', async () => {
    const { page, errors, frames } = await openScreen();
    assert.equal(await page.locator('#pane-status').isVisible(), false, '"Connecting…" is gone once the desktop is shown');
    const terminal = xvnc.terminal;
    assert.ok(terminal);
    // Wait for the first full frame: the desktop background and the yellow terminal window.
    await page.waitForFunction(
      ({ width }) => {
        const canvas = document.querySelector<HTMLCanvasElement>('#screen canvas');
        if (!canvas || canvas.width === 0) return false;
        const d = canvas.getContext('2d')?.getImageData(Math.floor((canvas.width / width) * 5), 5, 1, 1).data;
        return d !== undefined && d[0] === 0x33 && d[1] === 0x66 && d[2] === 0x99;
      },
      { width: xvnc.width },
    );
    assert.deepEqual(await pixelAt(page, 5, 5), [0x33, 0x66, 0x99], 'desktop background');
    const inside = await pixelAt(page, terminal.x + 5, terminal.y + terminal.height - 5);
    assert.deepEqual(inside, [0xff, 0xd0, 0x00], 'the yellow terminal window');

    const marker = `/tmp/porthole-e2e-${randomBytes(6).toString('hex')}`;
    // Clicking inside the desktop's terminal focuses the canvas and puts the VM's pointer there.
    const canvas = page.locator('#screen canvas');
    const box = await canvas.boundingBox();
    assert.ok(box);
    const scale = box.width / xvnc.width;
    await canvas.click({ position: { x: (terminal.x + terminal.width / 2) * scale, y: (terminal.y + terminal.height / 2) * scale } });
    await page.keyboard.type(`touch ${marker}`);
    await page.keyboard.press('Enter');
    await pollUntil('file created through the screen', UI_TIMEOUT_MS, async () => existsSync(marker));

    assert.equal(frames.some((f) => f.includes(xvnc.password)), false, 'the VNC password never crossed the WebSocket');
    assert.equal((await page.content()).includes(xvnc.password), false);
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
  });
});
