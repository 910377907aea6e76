/** A real browser signs in, opens a build page, reveals the password; a tester is refused. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signInThroughForm, recordPageErrors } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type SeededUser, type World } from '../helpers/seed.js';

/** Playwright waits on conditions, never on time; this bounds each wait. */
const UI_TIMEOUT_MS = 15_000;

describe('build page in Chromium', () => {
  let gw: TestGateway;
  let world: World;
  let browser: Browser;

  before(async () => {
    gw = await startGateway();
    world = await seedWorld(gw);
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await gw.close();
  });

  async function signedInPage(user: SeededUser): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);
    await page.goto(`${gw.url}/`);
    assert.match(page.url(), /\/login\?next=%2F$/, 'anonymous visitors are sent to sign in');
    await signInThroughForm(page, gw.url, user, '/');
    return { page, errors };
  }

  test('owner: sees both builds, opens the macOS one, reveals the passwords', async () => {
    const { page, errors } = await signedInPage(world.users.owner);
    await page.getByRole('heading', { name: 'Your builds' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'build-linux' }).count(), 1);
    await page.getByRole('link', { name: 'build-mac' }).click();
    await page.waitForURL(`${gw.url}/builds/build-mac`);
    await page.getByRole('heading', { name: 'Remote Access Instructions' }).waitFor();
    assert.match((await page.locator('#ssh-command').textContent()) ?? '', /^ssh -p 2222 \S+@\S+$/, 'the plain command leads');
    assert.match((await page.locator('#ssh-fingerprint').textContent()) ?? '', /^SHA256:/, 'with the fingerprint to compare');
    assert.equal(await page.locator('#ssh-command-pinned').isVisible(), false, 'the pinned one-liner is the option');
    await page.getByText('Or let the command check the fingerprint').click();
    assert.match((await page.locator('#ssh-command-pinned').textContent()) ?? '', /StrictHostKeyChecking=yes/);
    assert.equal(await page.getByRole('link', { name: 'Open terminal' }).count(), 1);
    assert.equal(await page.getByRole('link', { name: 'Open screen' }).count(), 1);
    assert.equal(await page.getByRole('link', { name: 'Session recordings' }).count(), 0, 'the app records nothing and nothing was recorded: no link to an empty list (issue #21)');

    const before = await page.content();
    assert.equal(before.includes(world.vmSecrets.sshPassword), false, 'not in the page until revealed');
    await page.locator('button[data-reveal="ssh"]').click();
    await page.locator('#ssh-password', { hasText: world.vmSecrets.sshPassword }).waitFor();
    await page.locator('button[data-reveal="vnc"]').click();
    await page.locator('#vnc-password', { hasText: world.vmSecrets.vncPassword }).waitFor();
    assert.equal(await page.locator('button[data-copy="ssh-password"]').isVisible(), true);
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
    assert.ok(gw.logs().some((l) => l['event'] === 'native_credentials_revealed' && l['userId'] === world.users.owner.id));
  });

  test('tester: sees the refusal instead of the panel', async () => {
    const { page, errors } = await signedInPage(world.users.tester);
    await page.goto(`${gw.url}/builds/build-linux`);
    await page.getByText("Your role on this app can't use remote access").waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Remote Access Instructions' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Open terminal' }).count(), 0);
    assert.deepEqual(errors.filter((e) => !e.includes('403')), []);
  });
});
