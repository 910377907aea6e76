/**
 * Embedding in Chromium across two loopback sites: a dashboard on http://localhost:A frames the
 * gateway on http://127.0.0.1:B through the SDK, with third-party cookies blocked, against a real
 * sshd and Xvnc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Frame, Page, Request } from 'playwright-core';
import { BLOCK_THIRD_PARTY_COOKIES_ARG, launchChromium, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, registerClosingBuild, seedWorld, signIn, type World } from '../helpers/seed.js';
import { PASSWORD_USER, passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { exchange, launch, launchOk, parseLaunchUrl } from '../helpers/embed.js';
import { attr, dashboardPage, startDashboard, type Dashboard, type DashboardWindow, type RecordedEvent } from '../helpers/dashboard.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
/** A wait that includes a fresh SSH login to the VM (the Files panel's checks): twice a UI wait. */
const VM_ROUND_TRIP_TIMEOUT_MS = 2 * UI_TIMEOUT_MS;
/** The window of the closing test ends this long after the finish call: time to see the window event first. */
const WINDOW_LEAD_MS = 3_000;
const GRACE_MS = 10 * 60_000;
const LAUNCH_TTL_MS = 60_000;
const BACKGROUND = '#336699';
describe('embedding in a cross-site dashboard with third-party cookies blocked', () => {
  let dashboard: Dashboard;
  let stranger: Dashboard;
  let sshd: SshdHandle;
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;

  before(async () => {
    [dashboard, stranger, sshd, xvnc] = await Promise.all([startDashboard(), startDashboard(), startSshd(), startXvnc({ background: BACKGROUND })]);
    gw = await startGateway({ PORTHOLE_EMBED_ORIGINS: dashboard.origin });
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    // Without WebGL xterm.js draws with DOM rows the test can read.
    browser = await launchChromium(['--disable-3d-apis', BLOCK_THIRD_PARTY_COOKIES_ARG]);
  });
  after(async () => {
    await browser.close();
    await gw.close();
    await Promise.all([sshd.stop(), xvnc.stop(), dashboard.close(), stranger.close()]);
  });

  const launchFor = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    userId: world.users.developer.id,
    buildId: world.builds.linuxRunning,
    kind: 'ssh',
    parentOrigin: dashboard.origin,
    ...overrides,
  });

  async function registerLinuxBuild(buildId: string): Promise<void> {
    const res = await control(gw).put(`/builds/${buildId}`, {
      appId: 'app-1',
      stack: 'linux',
      status: 'running',
      startedAt: new Date(Date.now() - 30 * 60_000).toISOString(),
      remoteAccess: { ssh: passwordEndpoint(sshd) },
    });
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  }

  interface Opened {
    readonly context: BrowserContext;
    readonly page: Page;
    readonly errors: string[];
    /** Every request the page and its frames sent. */
    readonly requests: Request[];
  }

  async function openDashboard(body: string, context?: BrowserContext): Promise<Opened> {
    const ctx = context ?? (await browser.newContext({ viewport: { width: 1100, height: 800 } }));
    const page = await ctx.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors: string[] = [];
    const requests: Request[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('request', (r) => requests.push(r));
    await page.goto(dashboard.show(dashboardPage(gw, body)));
    return { context: ctx, page, errors, requests };
  }

  async function events(page: Page): Promise<RecordedEvent[]> {
    return page.evaluate(() => (window as unknown as DashboardWindow).portholeEvents);
  }

  /** Waits for the dashboard to have received an event of `type` from the element `target`. */
  async function waitForEvent(page: Page, target: string, type: RecordedEvent['type'], detail: Record<string, unknown> = {}): Promise<RecordedEvent> {
    const handle = await page.waitForFunction(
      ({ target, type, detail }) =>
        (window as unknown as DashboardWindow).portholeEvents.find(
          (e) => e.target === target && e.type === type && Object.entries(detail).every(([k, v]) => e.detail[k] === v),
        ) ?? null,
      { target, type, detail },
    );
    return (await handle.jsonValue()) as RecordedEvent;
  }

  async function embeddedFrame(page: Page, selector: string): Promise<Frame> {
    const element = await page.locator(`${selector} iframe`).elementHandle();
    const frame = await element?.contentFrame();
    assert.ok(frame, `${selector} has a frame`);
    return frame;
  }

  /** Types into whatever has the keyboard and waits for a terminal row that matches `expect`. */
  async function run(page: Page, frame: Frame, command: string, expect: RegExp): Promise<void> {
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    await frame.locator('.xterm-rows > div').filter({ hasText: expect }).first().waitFor();
  }

  test('the embedded terminal works without any cookie: echo round trips, parent events, focus and disconnect', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    // A first-party sign-in leaves the gateway's session cookie in the jar: the frame must not get it.
    const firstParty = await context.newPage();
    await signInThroughForm(firstParty, gw.url, world.users.developer, '/');
    const firstPartyCookie = await firstParty.evaluate(() => {
      document.cookie = 'probe-first-party=1; SameSite=None; Secure; Path=/';
      return document.cookie;
    });
    assert.match(firstPartyCookie, /probe-first-party=1/, 'the probe cookie is valid on the gateway as a first party');
    await firstParty.close();

    const { url } = await launchOk(gw, launchFor());
    const { token } = parseLaunchUrl(url);
    const { page, errors, requests } = await openDashboard(`<porthole-terminal id="term" src="${attr(url)}"></porthole-terminal>`, context);

    const ready = await waitForEvent(page, 'term', 'porthole:ready');
    assert.deepEqual(ready.detail, { type: 'porthole:ready', kind: 'ssh', buildId: world.builds.linuxRunning });
    assert.deepEqual((await waitForEvent(page, 'term', 'porthole:window')).detail, { type: 'porthole:window', closesAt: null });
    await waitForEvent(page, 'term', 'porthole:connected');

    const frame = await embeddedFrame(page, '#term');
    await frame.locator('#conn-state[data-state="connected"]').waitFor();
    assert.equal(await frame.evaluate(() => window.location.href.includes('launch=')), false, 'the launch token left the address bar');
    assert.equal(await frame.evaluate(() => window.location.hash), '');

    // Third-party cookies are blocked: the same cookie the gateway accepted first-party is refused in the frame.
    const thirdPartyCookie = await frame.evaluate(() => {
      document.cookie = 'probe-third-party=1; SameSite=None; Secure; Path=/';
      return document.cookie;
    });
    assert.equal(thirdPartyCookie, '', 'no cookie can be set or read inside the frame');

    // porthole:focus from the parent gives the terminal the keyboard, wherever the focus was.
    await frame.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    assert.equal(await frame.evaluate(() => document.activeElement === document.body), true);
    await page.evaluate(() => document.querySelector<HTMLElement>('#term')?.focus());
    await frame.waitForFunction(() => document.hasFocus() && document.activeElement?.classList.contains('xterm-helper-textarea'));
    await run(page, frame, 'echo "embed-$((6*7))"', /^\s*embed-42\s*$/);
    await run(page, frame, 'echo "again-$((40+2))"', /^\s*again-42\s*$/);

    // porthole:disconnect ends the session; the parent hears 1000, and Reconnect reuses the in-memory credential.
    await page.evaluate(() => (document.querySelector('#term') as HTMLElement & { disconnect(): void }).disconnect());
    assert.equal((await waitForEvent(page, 'term', 'porthole:closed')).detail['code'], 1000);
    await frame.locator('#reconnect').click();
    await frame.locator('#conn-state[data-state="connected"]').waitFor();
    await page.waitForFunction(() => (window as unknown as DashboardWindow).portholeEvents.filter((e) => e.type === 'porthole:connected').length === 2);

    const toGateway = requests.filter((r) => r.url().startsWith(gw.url));
    assert.ok(toGateway.some((r) => r.url().endsWith('/api/v1/embed/credentials')));
    assert.ok(toGateway.filter((r) => r.url().endsWith('/api/v1/embed/connections')).length >= 2);
    for (const r of toGateway) {
      const headers = await r.allHeaders();
      assert.equal(headers['cookie'], undefined, `no cookie sent with ${r.url()}`);
      assert.equal(r.url().includes(token), false, `the launch token is not in ${r.url()}`);
      for (const [name, value] of Object.entries(headers)) assert.equal(value.includes(token), false, `the launch token is not in ${name} of ${r.url()}`);
      // Inside the frame only same-origin requests carry one (its CSP allows no other); the token is in none.
      const referer = headers['referer'];
      if (referer !== undefined && r.frame() !== page.mainFrame()) assert.ok(referer.startsWith(`${gw.url}/`), `${r.url()} got Referer ${referer}`);
    }
    const jar = await context.cookies(gw.url);
    assert.ok(jar.some((c) => c.name === 'porthole.sid'), 'the first-party session cookie exists');
    assert.equal(jar.some((c) => c.name === 'probe-third-party'), false);

    const messages = await page.evaluate(() => (window as unknown as DashboardWindow).rawMessages);
    assert.ok(messages.length >= 5);
    assert.ok(messages.every((m) => m.origin === gw.origin), 'every message came from the gateway');
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
    await context.close();
  });

  test("the embedded terminal's Files panel: a download through the browser's own download (bytes equal), a folder, an upload — no cookie", async () => {
    // A folder of this run's own in the VM user's home (the test runs as root beside the sshd).
    const dir = `/home/${PASSWORD_USER}/ef-${randomBytes(4).toString('hex')}`;
    mkdirSync(dir);
    const blob = randomBytes(300_000);
    writeFileSync(`${dir}/blob.bin`, blob);
    execFileSync('chown', ['-R', `${PASSWORD_USER}:`, dir]);
    try {
      const { url } = await launchOk(gw, launchFor());
      const { page, errors, requests, context } = await openDashboard(`<porthole-terminal id="term" src="${attr(url)}"></porthole-terminal>`);
      await waitForEvent(page, 'term', 'porthole:connected');
      const frame = await embeddedFrame(page, '#term');
      await frame.locator('#files-toggle').click();
      await frame.locator('.files-path-input').fill(dir);
      await frame.locator('.files-path-input').press('Enter');
      const link = frame.getByRole('link', { name: 'Download blob.bin', exact: true });
      await link.waitFor();

      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      assert.equal(download.suggestedFilename(), 'blob.bin');
      assert.equal(createHash('sha256').update(readFileSync(await download.path())).digest('hex'), createHash('sha256').update(blob).digest('hex'));
      const [archive] = await Promise.all([page.waitForEvent('download'), frame.locator('#files-download-folder').click()]);
      assert.match(archive.suggestedFilename(), /\.tar\.gz$/);
      assert.deepEqual([...readFileSync(await archive.path()).subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
      // The page stayed: the terminal is still there and connected.
      await frame.locator('#conn-state[data-state="connected"]').waitFor();

      // The upload makes the panel list the folder again; that listing is held here until the
      // download below has been refused, as a slow VM would hold it.
      const isListing = (u: URL): boolean => u.origin === gw.url && u.pathname.endsWith('/files');
      let releaseListing = (): void => {};
      const listingReleased = new Promise<void>((resolve) => (releaseListing = resolve));
      let listingAsked = (): void => {};
      const reListing = new Promise<void>((resolve) => (listingAsked = resolve));
      await page.route(isListing, async (route) => {
        listingAsked();
        await listingReleased;
        await route.continue();
      });
      await frame.locator('#files-upload-input').setInputFiles({ name: 'from-embed.txt', mimeType: 'text/plain', buffer: Buffer.from('embedded upload\n') });
      await frame.locator('.files-upload[data-state="uploaded"]', { hasText: 'from-embed.txt' }).waitFor();
      assert.equal(readFileSync(`${dir}/from-embed.txt`, 'utf8'), 'embedded upload\n');
      await reListing;

      // A file gone since it was listed: the panel says so, and the page stays — and the listing
      // arriving after the refusal does not wipe what it said.
      rmSync(`${dir}/blob.bin`);
      await link.click();
      const refusal = frame.locator('#files-panel [role="alert"]', { hasText: 'There is no such file or folder on the VM.' });
      // The panel asks the VM first (an SFTP login through the gateway): slow on a loaded machine.
      await refusal.waitFor({ timeout: VM_ROUND_TRIP_TIMEOUT_MS });
      releaseListing();
      await frame.getByRole('link', { name: 'Download from-embed.txt', exact: true }).waitFor({ timeout: VM_ROUND_TRIP_TIMEOUT_MS });
      await page.unroute(isListing);
      assert.equal(await refusal.isVisible(), true, 'the refusal is still shown after the re-listing');
      await frame.locator('#conn-state[data-state="connected"]').waitFor();

      const toGateway = requests.filter((r) => r.url().startsWith(gw.url));
      const form = toGateway.find((r) => r.method() === 'POST' && r.url().endsWith('/files/download'));
      assert.ok(form, 'the download went as a form');
      const credential = new URLSearchParams(form.postData() ?? '').get('credential');
      assert.ok(credential, 'the credential is in the form body');
      for (const r of toGateway) {
        assert.equal((await r.allHeaders())['cookie'], undefined, `no cookie sent with ${r.url()}`);
        assert.ok(!r.url().includes(credential), `the credential is not in ${r.url()}`);
      }
      // The test asks for it: the check before the download of the removed file (404).
      assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), [], 'no script errors and no CSP violations');
      await context.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the window closing reaches the parent as porthole:window, then porthole:closed with code 4000', async () => {
    await registerLinuxBuild('embed-window');
    const { url } = await launchOk(gw, launchFor({ buildId: 'embed-window' }));
    const { page, context } = await openDashboard(`<porthole-terminal id="term" src="${attr(url)}"></porthole-terminal>`);
    await waitForEvent(page, 'term', 'porthole:connected');

    const closesAt = new Date(Date.now() + WINDOW_LEAD_MS);
    const finish = await control(gw).post('/builds/embed-window/finish', { finishedAt: new Date(closesAt.getTime() - GRACE_MS).toISOString() });
    assert.equal(finish.status, 200, JSON.stringify(finish.body));
    await waitForEvent(page, 'term', 'porthole:window', { closesAt: closesAt.toISOString() });
    const closed = await waitForEvent(page, 'term', 'porthole:closed');
    assert.equal(closed.detail['code'], 4000);
    assert.ok(Date.now() >= closesAt.getTime() - 1_000, 'not closed early');
    const frame = await embeddedFrame(page, '#term');
    await frame.locator('body[data-window="closed"]').waitFor();
    assert.equal(await frame.locator('#reconnect').isVisible(), false);
    await context.close();
  });

  test("an Extend reaches the embedded terminal's and screen's parent as porthole:window; a Release as porthole:closed 4000 naming who", async () => {
    // A finished macOS build whose window closes 5 minutes from now: in its last 15-minute step.
    const put = await registerClosingBuild(gw, 'embed-extend', 5, {
      stack: 'macos',
      remoteAccess: { ssh: passwordEndpoint(sshd), vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } },
      graceMinutes: gw.config.graceMinutes,
    });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const closesAt = String(put.body.window.closesAt);
    const terminal = await launchOk(gw, launchFor({ buildId: 'embed-extend' }));
    const screen = await launchOk(gw, launchFor({ buildId: 'embed-extend', kind: 'vnc' }));
    const { page, context } = await openDashboard(
      `<porthole-terminal id="term" src="${attr(terminal.url)}"></porthole-terminal><porthole-screen id="screen" src="${attr(screen.url)}"></porthole-screen>`,
    );
    await Promise.all([waitForEvent(page, 'term', 'porthole:connected'), waitForEvent(page, 'screen', 'porthole:connected')]);
    await Promise.all([waitForEvent(page, 'term', 'porthole:window', { closesAt }), waitForEvent(page, 'screen', 'porthole:window', { closesAt })]);

    // Extended from the build page elsewhere (a cookie session of the same user): both frames hear it.
    const developer = await signIn(gw, world.users.developer);
    const extended = await developer.post('/api/v1/builds/embed-extend/extend').set('Origin', gw.origin);
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    const later = String(extended.body.closesAt);
    assert.notEqual(later, closesAt);
    // The terminal at once (its gateway pushes it); the screen at its next window poll.
    await Promise.all([waitForEvent(page, 'term', 'porthole:window', { closesAt: later }), waitForEvent(page, 'screen', 'porthole:window', { closesAt: later })]);

    const owner = await signIn(gw, world.users.owner);
    assert.equal((await owner.post('/api/v1/builds/embed-extend/release').set('Origin', gw.origin)).status, 200);
    const reason = `released by ${world.users.owner.id}`;
    const [termClosed, screenClosed] = await Promise.all([waitForEvent(page, 'term', 'porthole:closed'), waitForEvent(page, 'screen', 'porthole:closed')]);
    assert.deepEqual([termClosed.detail['code'], termClosed.detail['reason']], [4000, reason]);
    assert.deepEqual([screenClosed.detail['code'], screenClosed.detail['reason']], [4000, reason]);
    await context.close();
  });

  test('the embedded screen shows the desktop', async () => {
    const { url } = await launchOk(gw, launchFor({ userId: world.users.owner.id, buildId: world.builds.macRunning, kind: 'vnc' }));
    const { page, errors, context } = await openDashboard(`<porthole-screen id="screen" src="${attr(url)}"></porthole-screen>`);
    assert.equal((await waitForEvent(page, 'screen', 'porthole:ready')).detail['kind'], 'vnc');
    await waitForEvent(page, 'screen', 'porthole:window', { closesAt: null });
    await waitForEvent(page, 'screen', 'porthole:connected');
    const frame = await embeddedFrame(page, '#screen');
    await frame.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#screen canvas');
      if (!canvas || canvas.width === 0) return false;
      const d = canvas.getContext('2d')?.getImageData(5, 5, 1, 1).data;
      return d !== undefined && d[0] === 0x33 && d[1] === 0x66 && d[2] === 0x99;
    });
    assert.match((await frame.locator('#embed-label').textContent()) ?? '', /Build build-mac/);
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
    await context.close();
  });

  test('a parent origin that is not allowed cannot frame it', async () => {
    const { url } = await launchOk(gw, launchFor());
    const { token, parentOrigin, kind } = parseLaunchUrl(url);
    const ownParent = `${gw.url}/embed/terminal?parent=${encodeURIComponent(stranger.origin)}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const refusals: string[] = [];
    const bothRefused = new Promise<void>((resolve) => {
      page.on('console', (message) => {
        if (!/frame-ancestors/.test(message.text())) return;
        refusals.push(message.text());
        if (refusals.length === 2) resolve();
      });
    });
    const policies = new Map<string, Promise<string>>();
    page.on('response', (r) => {
      if (r.url().startsWith(`${gw.url}/embed/`)) policies.set(r.url(), r.allHeaders().then((h) => h['content-security-policy'] ?? ''));
    });
    await page.goto(
      stranger.show(dashboardPage(gw, `<porthole-terminal id="stolen" src="${attr(url)}"></porthole-terminal><iframe id="own" src="${attr(ownParent)}"></iframe>`)),
    );
    await bothRefused;
    assert.ok(refusals.some((text) => text.includes(`frame-ancestors ${dashboard.origin}`)), 'the stolen launch URL was refused');
    assert.ok(refusals.some((text) => text.includes("frame-ancestors 'none'")), 'the page naming the stranger as parent was refused');
    assert.match((await policies.get(url.split('#')[0] ?? '')) ?? '', new RegExp(`frame-ancestors ${dashboard.origin}(;|$)`));
    assert.match((await policies.get(ownParent)) ?? '', /frame-ancestors 'none'/);

    for (const selector of ['#stolen iframe', 'iframe#own']) {
      const frame = await (await page.locator(selector).elementHandle())?.contentFrame();
      assert.ok(frame, selector);
      assert.equal(await frame.locator('#terminal, #conn-state').count(), 0, `${selector} rendered nothing of the gateway`);
    }
    assert.deepEqual(await page.evaluate(() => (window as unknown as DashboardWindow).rawMessages), [], 'no message reaches a stranger');
    // The page's script never ran, so the launch was not even used: its rightful dashboard can still open it.
    const res = await exchange(gw, { launch: token, kind, parentOrigin });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await context.close();
  });

  test('a replayed or expired launch URL is refused, and the parent is told', async () => {
    const { url } = await launchOk(gw, launchFor());
    const first = await openDashboard(`<porthole-terminal id="term" src="${attr(url)}"></porthole-terminal>`);
    await waitForEvent(first.page, 'term', 'porthole:connected');

    const replay = await openDashboard(`<porthole-terminal id="term" src="${attr(url)}"></porthole-terminal>`, first.context);
    const refused = await waitForEvent(replay.page, 'term', 'porthole:closed');
    assert.deepEqual({ code: refused.detail['code'], error: refused.detail['error'] }, { code: 4003, error: 'invalid_ticket' });
    const frame = await embeddedFrame(replay.page, '#term');
    assert.match((await frame.locator('#term-banner').textContent()) ?? '', /already opened or its link has expired/);
    assert.deepEqual((await events(replay.page)).map((e) => e.type), ['porthole:closed'], 'no ready, no connection');
    // The first embed is untouched by the replay.
    assert.equal(await (await embeddedFrame(first.page, '#term')).locator('#conn-state').getAttribute('data-state'), 'connected');
    await first.context.close();

    const late = await launchOk(gw, launchFor());
    gw.setNow(new Date(Date.now() + LAUNCH_TTL_MS + 1_000));
    try {
      const expired = await openDashboard(`<porthole-terminal id="term" src="${attr(late.url)}"></porthole-terminal>`);
      const closed = await waitForEvent(expired.page, 'term', 'porthole:closed');
      assert.deepEqual({ code: closed.detail['code'], error: closed.detail['error'] }, { code: 4003, error: 'invalid_ticket' });
      await expired.context.close();
    } finally {
      gw.setNow(null);
    }
  });

  test("a tester's launch is refused: by the launch API, and at launch when the role changed since", async () => {
    const direct = await launch(gw, launchFor({ userId: world.users.tester.id }));
    assert.equal(direct.status, 403);
    assert.equal(direct.body.error.code, 'role_forbidden');

    const { url } = await launchOk(gw, launchFor({ userId: world.users.admin.id }));
    await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'tester' });
    try {
      const { page, context } = await openDashboard(`<porthole-terminal id="term" src="${attr(url)}"></porthole-terminal>`);
      const closed = await waitForEvent(page, 'term', 'porthole:closed');
      assert.deepEqual({ code: closed.detail['code'], error: closed.detail['error'] }, { code: 4003, error: 'role_forbidden' });
      const frame = await embeddedFrame(page, '#term');
      assert.match((await frame.locator('#term-banner').textContent()) ?? '', /role on this app can't use remote access/);
      await context.close();
    } finally {
      await control(gw).put(`/apps/app-1/members/${world.users.admin.id}`, { role: 'admin' });
    }
  });
});
