/**
 * /docs/api in Chromium (issue #20): Swagger UI renders the gateway's own document offline, under
 * the same strict CSP as every page, with no violation and no request to another origin.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

/** Swagger UI's bundle is ~1.5 MB of script to parse; generous for a loaded CI host. */
const RENDER_TIMEOUT_MS = 30_000;

let gw: TestGateway;
let browser: Browser;

before(async () => {
  gw = await startGateway();
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await gw.close();
});

test('/docs/api renders every area of the document, webhooks included, with no CSP violation and nothing from elsewhere', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(RENDER_TIMEOUT_MS);
  const errors = recordPageErrors(page);
  const elsewhere: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(gw.url) && !req.url().startsWith('data:')) elsewhere.push(req.url());
  });
  // Collected in the page: a violation report is the one thing a blocked inline style or script leaves.
  await page.addInitScript(`
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  `);
  await page.goto(`${gw.url}/docs/api`);
  await page.getByText('Create or update a build and its VM endpoints').waitFor();
  await page.getByText('/api/v1/builds/{buildId}/connections').first().waitFor();
  await page.getByText('build.extended', { exact: true }).first().waitFor();

  assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
  assert.deepEqual(errors, []);
  assert.deepEqual(elsewhere, []);
  await page.close();
});
