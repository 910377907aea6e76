/**
 * Regenerates the README screenshots from a real gateway and Chromium:
 *   npm run build && node --import tsx scripts/screenshots.ts
 */
import { resolve } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { startGateway } from '../test/helpers/gateway.js';
import { seedWorld } from '../test/helpers/seed.js';

const OUT_DIR = resolve(import.meta.dirname, '..', 'docs', 'images');
const VIEWPORT = { width: 1200, height: 1000 };

async function main(): Promise<void> {
  const gw = await startGateway();
  const browser = await launchChromium();
  try {
    const world = await seedWorld(gw);
    const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: 'light' });
    await page.goto(`${gw.url}/login`);
    await page.getByLabel('Email').fill(world.users.owner.email);
    await page.getByLabel('Password').fill(world.users.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${gw.url}/`);
    await page.screenshot({ path: resolve(OUT_DIR, 'builds.png') });
    await page.goto(`${gw.url}/builds/build-mac`);
    await page.locator('button[data-reveal="ssh"]').click();
    await page.locator('#ssh-password', { hasText: world.vmSecrets.sshPassword }).waitFor();
    await page.screenshot({ path: resolve(OUT_DIR, 'build-page.png'), fullPage: true });
    console.log(`screenshots written to ${OUT_DIR}`);
  } finally {
    await browser.close();
    await gw.close();
  }
}

void main();
