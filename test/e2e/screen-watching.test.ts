/**
 * Watching a screen on the real page (issue #16), two browser contexts against a real Xvnc: the
 * owner (a developer) opens the build's screen; a teammate (the app's admin) opens it with
 * `?watch=<sessionId>`, sees the desktop, is told it watches, its View only stays on, and its page
 * sends no input at all; the owner leaving ends the watching page.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openSignedInPage } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type SeededUser, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { auditEvents, waitForAudit } from '../helpers/ops.js';
import { pollUntil } from '../helpers/ports.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
const BACKGROUND = '#336699';
/** RFB client message types that carry a person's input (RFC 6143 §7.5). */
const KEY_EVENT = 4;
const POINTER_EVENT = 5;

describe('watching a screen in Chromium', () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    xvnc = await startXvnc({ background: BACKGROUND });
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

  async function screenOf(user: SeededUser, path: string, ignoreConsole?: RegExp): Promise<{ page: Page; errors: string[]; sent: Buffer[] }> {
    const options = { viewport: { width: 1100, height: 800 }, timeoutMs: UI_TIMEOUT_MS };
    const opened = await openSignedInPage(browser, gw.url, user, path, ignoreConsole ? { ...options, ignoreConsole } : options);
    contexts.push(opened.context);
    const sent: Buffer[] = [];
    opened.page.on('websocket', (ws) => ws.on('framesent', (frame) => sent.push(Buffer.from(frame.payload))));
    await opened.page.locator('#conn-state[data-state="connected"]').waitFor();
    return { ...opened, sent };
  }

  async function desktopShown(page: Page): Promise<void> {
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#screen canvas');
      if (!canvas || canvas.width === 0) return false;
      const d = canvas.getContext('2d')?.getImageData(5, 5, 1, 1).data;
      return d !== undefined && d[0] === 0x33 && d[1] === 0x66 && d[2] === 0x99;
    });
  }

  test("the owner's toolbar names the watcher; let drive from the build page's API, the watching page takes input", async () => {
    const owner = await screenOf(world.users.developer, `/builds/${world.builds.macRunning}/screen`);
    const list = `${gw.url}/api/v1/builds/${world.builds.macRunning}/live-sessions`;
    const listed = async (): Promise<{ sessions: { sessionId: string; kind: string; yours: boolean }[] }> =>
      (await (await owner.page.request.get(list)).json()) as { sessions: { sessionId: string; kind: string; yours: boolean }[] };
    const mine = (await listed()).sessions.find((x) => x.kind === 'vnc' && x.yours);
    assert.ok(mine, "the owner's screen is in the build's live sessions");
    const watcher = await screenOf(world.users.admin, `/builds/${world.builds.macRunning}/screen?watch=${mine.sessionId}`, /status of 404/);
    await desktopShown(watcher.page);
    await owner.page.locator('#screen-watchers', { hasText: `Watching: ${world.users.admin.id}` }).waitFor();

    const put = await owner.page.request.put(`${list}/${mine.sessionId}/watchers/${world.users.admin.id}`, { headers: { Origin: gw.url }, data: { mode: 'drive' } });
    assert.equal(put.status(), 204);
    const toggle = watcher.page.locator('#view-only-toggle');
    await watcher.page.locator('#view-only-toggle[aria-pressed="false"]:not([disabled])').waitFor();
    await owner.page.locator('#screen-watchers', { hasText: `${world.users.admin.id} (can type)` }).waitFor();
    const box = await watcher.page.locator('#screen canvas').boundingBox();
    assert.ok(box);
    const sentBefore = watcher.sent.length;
    await watcher.page.mouse.move(box.x + 40, box.y + 40);
    await watcher.page.mouse.move(box.x + 45, box.y + 45);
    await pollUntil('the watching page to send a pointer event', UI_TIMEOUT_MS, () => Promise.resolve(watcher.sent.slice(sentBefore).some((frame) => frame[0] === POINTER_EVENT)));
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await owner.page.close();
    await watcher.page.locator('#conn-state[data-state="disconnected"]').waitFor();
    assert.deepEqual(owner.errors, []);
    assert.deepEqual(watcher.errors, []);
  });

  test('a teammate watches from a ?watch= link: the desktop, the notice, View only held on, no input sent; the owner leaving ends it', async () => {
    const seen = new Set((await auditEvents(gw, { limit: 1000 })).map((e) => e.id));
    const owner = await screenOf(world.users.developer, `/builds/${world.builds.macRunning}/screen`);
    // RFB cannot tell the owner's page its session id; the audit trail names it (the build page's live list will).
    const opened = await waitForAudit(gw, (e) => !seen.has(e.id) && e.event === 'connection_opened' && e.details['kind'] === 'vnc');
    const sessionId = String(opened.details['connectionId']);

    // Its retry after the owner's page went is answered 404 session_not_found, which Chromium logs.
    const watcher = await screenOf(world.users.admin, `/builds/${world.builds.macRunning}/screen?watch=${sessionId}`, /status of 404/);
    await desktopShown(watcher.page);
    await watcher.page.getByText('Watching a teammate’s screen (view only).').waitFor();
    const toggle = watcher.page.locator('#view-only-toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    assert.equal(await toggle.isDisabled(), true);

    const box = await watcher.page.locator('#screen canvas').boundingBox();
    assert.ok(box);
    const sentBefore = watcher.sent.length;
    await watcher.page.mouse.move(box.x + 50, box.y + 50);
    await watcher.page.mouse.click(box.x + 60, box.y + 60);
    await watcher.page.keyboard.type('no input from here');
    // Playwright resolves once the page has handled each event; view-only noVNC drops them in its handlers, queueing nothing.
    const inputFrames = watcher.sent.slice(sentBefore).filter((frame) => frame[0] === KEY_EVENT || frame[0] === POINTER_EVENT);
    assert.deepEqual(inputFrames, [], 'noVNC sends no key or pointer event while watching');

    await owner.page.close();
    await watcher.page.locator('#conn-state[data-state="disconnected"]').waitFor();
    await watcher.page.getByText('The screen you were watching is no longer shared').waitFor();
    await waitForAudit(gw, (e) => e.event === 'watch_ended' && e.details['sessionId'] === sessionId);
    assert.deepEqual(owner.errors, []);
    assert.deepEqual(watcher.errors, []);
  });
});
