/**
 * The Files panel of the terminal page (issue #17) in a real browser against a real gateway and
 * sshd: open the panel at home, open a folder, download a file (the browser's download event, the
 * bytes equal) and the folder as .tar.gz, see a hostile name as text on one line, drop a file on
 * the terminal to upload it and see it with `ls`, be refused on a second upload of the same name
 * and replace it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, openSignedInPage } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { PASSWORD_USER, passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
/** Where `useradd -m` (test/helpers/sshd.ts) puts the password user's home. */
const VM_HOME = `/home/${PASSWORD_USER}`;

describe('Files panel in Chromium', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Folders this run made in the VM user's home: removed even when a test fails half-way. */
  const made: string[] = [];

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    // Without WebGL xterm.js falls back to its DOM renderer, whose rows the test can read.
    browser = await launchChromium(['--disable-3d-apis']);
  });
  after(async () => {
    await Promise.all(made.map((dir) => rm(`${VM_HOME}/${dir}`, { recursive: true, force: true })));
    await Promise.all(contexts.map((context) => context.close()));
    await browser.close();
    await gw.close();
    await sshd.stop();
  });

  /** Types a command and waits until a rendered row matches `expect`; returns all rows' text. */
  async function run(page: Page, command: string, expect: RegExp): Promise<string> {
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    await page.locator('.xterm-rows > div').filter({ hasText: expect }).first().waitFor();
    return (await page.locator('.xterm-rows').textContent()) ?? '';
  }

  test('download, hostile names, drop an upload on the terminal, replace it', async () => {
    // The password user's home is shared by every test file that runs at the same time: a folder of this run's own.
    const id = randomBytes(4).toString('hex');
    const dir = `pf-${id}`;
    made.push(dir);
    const { context, page, errors } = await openSignedInPage(browser, gw.url, world.users.developer, `/builds/${world.builds.linuxRunning}/terminal`, {
      viewport: { width: 1400, height: 800 },
      timeoutMs: UI_TIMEOUT_MS,
      // The test asks for them: an upload refused as existing (409) and a missing path (404).
      ignoreConsole: /status of (409|404) \((Conflict|Not Found)\)/,
    });
    contexts.push(context);
    await page.locator('#conn-state[data-state="connected"]').waitFor();

    const rows = await run(
      page,
      `mkdir ${dir} && head -c 300000 /dev/urandom > ${dir}/blob.bin && touch "${dir}/$(printf 'evil\\n<b>bold&amp;<i>x')" && sha256sum ${dir}/blob.bin | sed 's/^/SUM:/'`,
      /SUM:[0-9a-f]{64}/,
    );
    const sum = /SUM:([0-9a-f]{64})/.exec(rows)?.[1];
    assert.ok(sum);

    // The panel opens at the login user's home.
    await page.locator('#files-toggle').click();
    assert.equal(await page.locator('#files-toggle').getAttribute('aria-expanded'), 'true');
    await page.getByRole('button', { name: `Open ${dir}`, exact: true }).click();
    await page.getByRole('link', { name: 'Download blob.bin', exact: true }).waitFor();
    assert.match(await page.locator('.files-path-input').inputValue(), new RegExp(`^/.*/${dir}$`));

    // A file: the browser's own download, every byte.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download blob.bin', exact: true }).click()]);
    assert.equal(download.suggestedFilename(), 'blob.bin');
    const downloaded = await download.path();
    assert.equal(createHash('sha256').update(await readFile(downloaded)).digest('hex'), sum, 'the bytes of the file on the VM');

    // The folder, as a gzip stream.
    const [archive] = await Promise.all([page.waitForEvent('download'), page.locator('#files-download-folder').click()]);
    assert.match(archive.suggestedFilename(), /\.tar\.gz$/);
    const gz = await readFile(await archive.path());
    assert.deepEqual([...gz.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');

    // A name with a newline, markup and an entity (a name has no '/'): text, on one line, the newline shown as \n.
    const hostile = page.locator('#files-panel .files-row', { hasText: 'evil\\n<b>bold&amp;<i>x' });
    await hostile.waitFor();
    assert.equal(await page.locator('#files-panel b, #files-panel i').count(), 0, 'no markup from the VM is parsed');
    assert.ok(!((await hostile.locator('.files-name').textContent()) ?? '').includes('\n'), 'one line');

    // Dropped on the terminal: uploaded into the folder the panel shows.
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.txt', { type: 'text/plain' }));
      return dt;
    }, `dropped-${id}\n`);
    for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('#terminal', type, { dataTransfer });
    await page.locator('.files-upload[data-state="uploaded"]', { hasText: 'dropped.txt' }).waitFor();
    await page.getByRole('link', { name: 'Download dropped.txt', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Close files', exact: true }).click();
    assert.equal(await page.locator('#files-toggle').getAttribute('aria-expanded'), 'false');
    await run(page, `ls ${dir}`, /dropped\.txt/);
    await run(page, `cat ${dir}/dropped.txt`, new RegExp(`^\\s*dropped-${id}\\s*$`));

    // The same name again, from the picker: refused until replaced.
    await page.locator('#files-toggle').click();
    await page.locator('#files-upload-input').setInputFiles({ name: 'dropped.txt', mimeType: 'text/plain', buffer: Buffer.from(`replaced-${id}\n`) });
    await page.locator('.files-upload[data-state="exists"]', { hasText: 'dropped.txt' }).waitFor();
    await page.getByRole('button', { name: 'Replace dropped.txt on the VM', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('.files-upload[data-state="uploaded"]').length === 2);

    // A folder that is not there: said in the panel.
    await page.locator('.files-path-input').fill(`/nonexistent-${id}`);
    await page.locator('.files-path-input').press('Enter');
    await page.locator('#files-panel [role="alert"]', { hasText: 'There is no such file or folder on the VM.' }).waitFor();

    await page.getByRole('button', { name: 'Close files', exact: true }).click();
    await run(page, `cat ${dir}/dropped.txt`, new RegExp(`^\\s*replaced-${id}\\s*$`));
    await run(page, `rm -rf ${dir} && echo "clean-$((40+2))"`, /^\s*clean-42\s*$/);
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
  });
});
