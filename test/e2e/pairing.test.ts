/**
 * Pairing on the real pages (issue #16), two browser contexts: the owner (a developer) opens a
 * terminal and copies its watch link; a teammate (the app's admin) opens it, sees the owner's
 * output at the owner's size and who is on the session, cannot type until the owner lets it,
 * types, and is stopped again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openSignedInPage, type SignedInPage } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type SeededUser, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;

describe('pairing in Chromium', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    // Without WebGL xterm.js falls back to its DOM renderer, whose rows the test can read.
    browser = await launchChromium(['--disable-3d-apis']);
  });
  after(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser.close();
    await gw.close();
    await sshd.stop();
  });

  async function pageOf(user: SeededUser, path: string, viewport: { width: number; height: number }): Promise<SignedInPage> {
    const opened = await openSignedInPage(browser, gw.url, user, path, { viewport, timeoutMs: UI_TIMEOUT_MS });
    contexts.push(opened.context);
    await opened.page.locator('#conn-state[data-state="connected"]').waitFor();
    return opened;
  }

  function row(page: Page, expect: RegExp): ReturnType<Page['locator']> {
    return page.locator('.xterm-rows > div').filter({ hasText: expect }).first();
  }

  test('watch from a link, see who is on, be let to type and stopped again', async () => {
    const owner = await pageOf(world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`, { width: 900, height: 600 });
    const link = await owner.page.locator('#copy-watch-link').getAttribute('data-link');
    assert.ok(link, 'the owner is offered a watch link');
    const watchPath = new URL(link).pathname + new URL(link).search;
    assert.match(watchPath, /\/terminal\?watch=[0-9a-f]{16}$/);

    await owner.page.keyboard.type('echo "shared-$((20+22))"');
    await owner.page.keyboard.press('Enter');
    await row(owner.page, /^\s*shared-42\s*$/).waitFor();

    // A larger window than the owner's: the watcher still shows the owner's PTY size.
    const watcher = await pageOf(world.users.admin, watchPath, { width: 1300, height: 900 });
    await row(watcher.page, /^\s*shared-42\s*$/).waitFor();
    await watcher.page.locator('#participants', { hasText: 'You are watching' }).waitFor();
    await owner.page.locator('#participants', { hasText: `${world.users.admin.id} is watching` }).waitFor();
    const ownerRows = await owner.page.locator('.xterm-rows > div').count();
    assert.equal(await watcher.page.locator('.xterm-rows > div').count(), ownerRows, "the owner's rows, not the watcher's window");

    // Typing while watching goes nowhere.
    await watcher.page.locator('.xterm').click();
    await watcher.page.keyboard.type('echo "watcher-$((1+1))"');
    await watcher.page.keyboard.press('Enter');
    await owner.page.keyboard.type('echo "owner-$((3+3))"');
    await owner.page.keyboard.press('Enter');
    await row(watcher.page, /^\s*owner-6\s*$/).waitFor();
    assert.equal(await row(owner.page, /^\s*watcher-2\s*$/).count(), 0, "the watcher's keys did not reach the shell");

    await owner.page.getByRole('button', { name: `Let ${world.users.admin.id} type` }).click();
    await watcher.page.locator('#participants', { hasText: 'You can type' }).waitFor();
    await watcher.page.locator('.xterm').click();
    await watcher.page.keyboard.type('echo "typed-$((4+5))"');
    await watcher.page.keyboard.press('Enter');
    await row(owner.page, /^\s*typed-9\s*$/).waitFor();

    await owner.page.getByRole('button', { name: `Stop ${world.users.admin.id} typing` }).click();
    await watcher.page.locator('#participants', { hasText: 'You are watching' }).waitFor();
    assert.deepEqual([...owner.errors, ...watcher.errors], []);
  });

  test('watch from the build page; the owner lets the watcher type and removes it from its own build page', async () => {
    const owner = await pageOf(world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`, { width: 900, height: 600 });
    await owner.page.keyboard.type('echo "from-build-page-$((30+3))"');
    await owner.page.keyboard.press('Enter');
    await row(owner.page, /^\s*from-build-page-33\s*$/).waitFor();

    const teammate = await openSignedInPage(browser, gw.url, world.users.admin, `/builds/${world.builds.linuxRunning}`, { viewport: { width: 1000, height: 800 }, timeoutMs: UI_TIMEOUT_MS });
    contexts.push(teammate.context);
    const listed = teammate.page.locator('.live-session', { hasText: `Terminal · ${world.users.developer.id}` }).last();
    await listed.locator('.badge-attached').waitFor();
    await listed.getByRole('link', { name: `Watch ${world.users.developer.id}'s terminal` }).click();
    await teammate.page.locator('#conn-state[data-state="connected"]').waitFor();
    const sessionId = new URL(teammate.page.url()).searchParams.get('watch') ?? '';
    assert.match(sessionId, /^[0-9a-f]{16}$/);
    await row(teammate.page, /^\s*from-build-page-33\s*$/).waitFor();
    await teammate.page.locator('#participants', { hasText: 'You are watching' }).waitFor();

    // The owner's own build page, beside its terminal: the session is theirs, with who watches it.
    const ownerBuildPage = await owner.context.newPage();
    ownerBuildPage.setDefaultTimeout(UI_TIMEOUT_MS);
    await ownerBuildPage.goto(`${gw.url}/builds/${world.builds.linuxRunning}`);
    const mine = ownerBuildPage.locator(`.live-session[data-session-id="${sessionId}"]`);
    await mine.locator('.live-session-summary', { hasText: 'Terminal · You' }).waitFor();
    await mine.getByRole('button', { name: `Let ${world.users.admin.id} type` }).click();
    await teammate.page.locator('#participants', { hasText: 'You can type' }).waitFor();
    await mine.getByText(`${world.users.admin.id} can type`).waitFor();
    await teammate.page.locator('.xterm').click();
    await teammate.page.keyboard.type('echo "let-in-$((6+7))"');
    await teammate.page.keyboard.press('Enter');
    await row(owner.page, /^\s*let-in-13\s*$/).waitFor();

    await mine.getByRole('button', { name: `Remove ${world.users.admin.id}` }).click();
    await teammate.page.locator('#term-banner', { hasText: "The session's owner stopped you watching it." }).waitFor();
    assert.equal(await teammate.page.locator('#reconnect').isVisible(), false, 'a removed watcher is not offered a reconnect');
    await mine.getByText('Nobody is watching.').waitFor();
    await owner.page.keyboard.type('echo "still-mine-$((2*21))"');
    await owner.page.keyboard.press('Enter');
    await row(owner.page, /^\s*still-mine-42\s*$/).waitFor();
    assert.deepEqual([...owner.errors, ...teammate.errors], []);
  });
});
