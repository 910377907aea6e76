/**
 * The Files panel's page side in Chromium against a stubbed file API (Playwright answers the
 * `/files` requests as docs/api.md describes them): what the page asks for, and what it shows for
 * hostile names, paging, sorting, filtering, downloads, a refused and replaced upload, and
 * refusals. test/e2e/files.test.ts is the same panel against the gateway's real endpoints.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Request, Route } from 'playwright-core';
import { launchChromium, openSignedInPage } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

const UI_TIMEOUT_MS = 20_000;
const HOME = '/home/dev';
/** No '/': a POSIX name cannot have one (the page drops such an entry). */
const HOSTILE = '<img src=x onerror="alert(1)"><b>bold\n"q"\x1b[31m';
const HOSTILE_SHOWN = '<img src=x onerror="alert(1)"><b>bold\\n"q"\\x1B[31m';

function json(route: Route, status: number, body: unknown): Promise<void> {
  return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
}

describe('Files panel against a stubbed API', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    browser = await launchChromium(['--disable-3d-apis']);
  });
  after(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser.close();
    await gw.close();
    await sshd.stop();
  });

  test('listing, paging, sorting, filtering, downloads, a refused and replaced upload, refusals', async () => {
    const { context, page, errors } = await openSignedInPage(browser, gw.url, world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`, {
      viewport: { width: 1400, height: 800 },
      timeoutMs: UI_TIMEOUT_MS,
      // The stub's own refusals (404, 410) are logged by Chromium as failed resources.
      ignoreConsole: /Failed to load resource/,
    });
    contexts.push(context);
    await page.locator('#conn-state[data-state="connected"]').waitFor();

    const lists: URL[] = [];
    const puts: { url: URL; body: Buffer; contentType: string | undefined; origin: string | undefined }[] = [];
    let uploaded = false;
    let windowOpen = true;
    await page.route('**/api/v1/builds/*/files**', async (route: Route, request: Request) => {
      const url = new URL(request.url());
      const path = url.searchParams.get('path');
      if (url.pathname.endsWith('/files/content') && request.method() === 'PUT') {
        puts.push({ url, body: request.postDataBuffer() ?? Buffer.alloc(0), contentType: request.headers()['content-type'], origin: await request.headerValue('origin') ?? undefined });
        if (url.searchParams.get('overwrite') !== 'true') return json(route, 409, { error: { code: 'file_exists', message: 'exists' } });
        uploaded = true;
        return route.fulfill({ status: 201, body: '' });
      }
      if (url.pathname.endsWith('/files/content')) {
        return route.fulfill({ status: 200, headers: { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="a.txt"` }, body: 'hello from the VM\n' });
      }
      if (url.pathname.endsWith('/files')) {
        lists.push(url);
        if (!windowOpen) return json(route, 410, { error: { code: 'window_closed', message: 'closed' } });
        if (path === '/missing') return json(route, 404, { error: { code: 'file_not_found', message: 'No such file' } });
        if (url.searchParams.get('cursor') === 'p2') return json(route, 200, { path: HOME, entries: [{ name: 'zz-last.txt', type: 'file', size: 1, modifiedAt: '2026-01-01T00:00:00Z', mode: 33188 }], nextCursor: null });
        const entries = [
          { name: 'a.txt', type: 'file', size: 2048, modifiedAt: '2026-12-01T10:00:00Z', mode: 33188 },
          { name: 'logs', type: 'dir', size: 4096, modifiedAt: '2026-11-01T10:00:00Z', mode: 16877 },
          { name: HOSTILE, type: 'file', size: 5, modifiedAt: '2026-10-01T10:00:00Z', mode: 33188 },
          { name: 'big.bin', type: 'file', size: 50 * 1024 * 1024, modifiedAt: '2026-09-01T10:00:00Z', mode: 33188 },
          ...(uploaded ? [{ name: 'dropped.txt', type: 'file', size: 7, modifiedAt: '2026-12-02T10:00:00Z', mode: 33188 }] : []),
        ];
        return json(route, 200, { path: path ?? HOME, entries, nextCursor: path === null ? 'p2' : null });
      }
      return route.fallback();
    });

    await page.locator('#files-toggle').click();
    await page.getByRole('link', { name: 'Download a.txt', exact: true }).waitFor();
    assert.equal(lists[0]?.search, '', 'home: no path sent');
    assert.equal(await page.locator('.files-path-input').inputValue(), HOME);
    const names = async (): Promise<string[]> => page.locator('.files-row .files-name').allTextContents();
    assert.deepEqual(await names(), ['logs/', HOSTILE_SHOWN, 'a.txt', 'big.bin'], 'folders first; the hostile name as text on one line');
    assert.equal(await page.locator('#files-panel b, #files-panel img').count(), 0, 'no markup from the VM is parsed');
    assert.deepEqual(await page.locator('.files-crumbs li').allTextContents(), ['/', 'home', 'dev']);

    // Paging.
    await page.getByRole('button', { name: 'Load more of this folder' }).click();
    await page.getByRole('link', { name: 'Download zz-last.txt', exact: true }).waitFor();
    assert.equal(lists.at(-1)?.search, '?path=%2Fhome%2Fdev&cursor=p2');
    assert.equal(await page.getByRole('button', { name: 'Load more of this folder' }).isHidden(), true);

    // Sorting and filtering.
    await page.getByRole('button', { name: 'Sort by size' }).click();
    assert.equal(await page.locator('th.files-col-size').getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await names(), ['logs/', 'big.bin', 'a.txt', HOSTILE_SHOWN, 'zz-last.txt']);
    await page.getByLabel('Filter by name').fill('A.T');
    assert.deepEqual(await names(), ['a.txt']);
    await page.getByLabel('Filter by name').fill('');

    // Downloads are links the browser follows itself.
    assert.equal(await page.getByRole('link', { name: 'Download a.txt', exact: true }).getAttribute('href'), '/api/v1/builds/build-linux/files/content?path=%2Fhome%2Fdev%2Fa.txt');
    assert.equal(await page.getByRole('link', { name: 'Download logs as .tar.gz', exact: true }).getAttribute('href'), '/api/v1/builds/build-linux/files/archive?path=%2Fhome%2Fdev%2Flogs');
    assert.equal(await page.locator('#files-download-folder').getAttribute('href'), '/api/v1/builds/build-linux/files/archive?path=%2Fhome%2Fdev');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download a.txt', exact: true }).click()]);
    // A download answered by page.route is cancelled by Chromium: its bytes are files.test.ts's to check.
    assert.equal(download.url(), `${gw.url}/api/v1/builds/build-linux/files/content?path=%2Fhome%2Fdev%2Fa.txt`);

    // A drop on the terminal: refused as existing, then replaced.
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped'], 'dropped.txt', { type: 'text/plain' }));
      return dt;
    });
    for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('#terminal', type, { dataTransfer });
    await page.locator('.files-upload[data-state="exists"]', { hasText: 'dropped.txt' }).waitFor();
    await page.getByRole('button', { name: 'Replace dropped.txt on the VM', exact: true }).click();
    await page.locator('.files-upload[data-state="uploaded"]', { hasText: 'dropped.txt' }).waitFor();
    await page.getByRole('link', { name: 'Download dropped.txt', exact: true }).waitFor();
    assert.equal(puts.length, 2);
    assert.equal(puts[0]?.url.search, '?path=%2Fhome%2Fdev%2Fdropped.txt');
    assert.equal(puts[1]?.url.search, '?path=%2Fhome%2Fdev%2Fdropped.txt&overwrite=true');
    assert.equal(puts[1]?.body.toString('utf8'), 'dropped');
    assert.equal(puts[1]?.contentType, 'application/octet-stream');
    assert.equal(puts[1]?.origin, gw.url, 'the page sends its Origin');
    assert.match((await page.locator('.files-upload[data-state="uploaded"] .files-upload-text').textContent()) ?? '', /^Uploaded · 7 B$/);

    // Refusals.
    await page.locator('.files-path-input').fill('/missing');
    await page.locator('.files-path-input').press('Enter');
    await page.locator('#files-panel [role="alert"]', { hasText: 'There is no such file or folder on the VM.' }).waitFor();
    assert.equal(lists.at(-1)?.searchParams.get('path'), '/missing');
    windowOpen = false;
    await page.getByRole('button', { name: 'Refresh this folder' }).click();
    await page.locator('#files-panel [role="alert"]', { hasText: 'access window has closed' }).waitFor();
    assert.equal(await page.locator('.files-body').isHidden(), true, 'nothing more is offered');

    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#files-panel').isHidden(), true);
    assert.equal(await page.locator('#files-toggle').getAttribute('aria-expanded'), 'false');
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
  });
});
