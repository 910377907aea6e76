/**
 * Regenerates the README screenshots from a real gateway and Chromium:
 *   npm run build && node --import tsx scripts/screenshots.ts
 */
import { resolve } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { startGateway } from '../test/helpers/gateway.js';
import { control, seedWorld } from '../test/helpers/seed.js';
import { passwordEndpoint, startSshd } from '../test/helpers/sshd.js';
import { startXvnc } from '../test/helpers/xvnc.js';

const OUT_DIR = resolve(import.meta.dirname, '..', 'docs', 'images');
const VIEWPORT = { width: 1200, height: 1000 };
/** An iPhone 12–15's CSS viewport, the phone size issue #21 was tried at. */
const PHONE_VIEWPORT = { width: 390, height: 844 };

async function main(): Promise<void> {
  const gw = await startGateway();
  const sshd = await startSshd();
  const xvnc = await startXvnc({ terminalWindow: true, width: 1280, height: 800 });
  // xterm.js's DOM renderer: software WebGL may leave a resized terminal blank in a screenshot.
  const browser = await launchChromium(['--disable-3d-apis']);
  try {
    const world = await seedWorld(gw, {
      ssh: passwordEndpoint(sshd),
      vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password },
    });
    // The terminal session below is recorded, so the replay page has something to show.
    await control(gw).put('/apps/app-1', { name: 'Mobile App', recordSessions: true });
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

    await page.goto(`${gw.url}/builds/build-linux/terminal`);
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    // One command line: keys typed while a command still prints would be echoed into its output.
    await page.keyboard.type('uname -sm; echo "6*7 = $((6*7))"; ls -la ~ | head -4; printf "\\e[1;32mgreen\\e[0m \\e[1;34mblue\\e[0m \\e[1;33myellow\\e[0m\\n"');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.title.includes('—'));
    await page.screenshot({ path: resolve(OUT_DIR, 'terminal.png') });
    // Ends the shell for good, which finishes its recording.
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.locator('#conn-state[data-state="disconnected"]').waitFor();
    await page.goto(`${gw.url}/builds/build-linux/recordings`);
    await page.getByRole('link', { name: 'Replay' }).first().click();
    await page.locator('#player pre.ap-term-text', { hasText: 'green' }).waitFor();
    await page.screenshot({ path: resolve(OUT_DIR, 'replay.png') });

    await page.goto(`${gw.url}/builds/build-mac/screen`);
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    await page.waitForFunction(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#screen canvas');
      const pixel = canvas && canvas.width > 0 ? canvas.getContext('2d')?.getImageData(2, 2, 1, 1).data : undefined;
      return pixel !== undefined && (pixel[0] ?? 0) + (pixel[1] ?? 0) + (pixel[2] ?? 0) > 0;
    });
    await page.screenshot({ path: resolve(OUT_DIR, 'screen.png') });

    // The screen on a phone: the touch key bar above the desktop.
    const phone = await browser.newContext({ viewport: PHONE_VIEWPORT, hasTouch: true, isMobile: true, deviceScaleFactor: 2, colorScheme: 'light' });
    const phonePage = await phone.newPage();
    await phonePage.context().addCookies(await page.context().cookies());
    await phonePage.goto(`${gw.url}/builds/build-mac/screen`);
    await phonePage.locator('#conn-state[data-state="connected"]').waitFor();
    await phonePage.locator('#screen-keys').waitFor();
    await phonePage.screenshot({ path: resolve(OUT_DIR, 'screen-phone.png') });
    // The build list as cards, and the terminal with its key bar and the countdown in reach.
    await phonePage.goto(`${gw.url}/`);
    await phonePage.screenshot({ path: resolve(OUT_DIR, 'builds-phone.png') });
    await phonePage.goto(`${gw.url}/builds/build-linux/terminal`);
    await phonePage.locator('#conn-state[data-state="connected"]').waitFor();
    await phonePage.keyboard.type('echo "6*7 = $((6*7))"');
    await phonePage.keyboard.press('Enter');
    await phonePage.locator('.xterm-rows > div', { hasText: /^6\*7 = 42/ }).first().waitFor();
    await phonePage.screenshot({ path: resolve(OUT_DIR, 'terminal-phone.png') });
    await phone.close();
    console.log(`screenshots written to ${OUT_DIR}`);
  } finally {
    await browser.close();
    await gw.close();
    await sshd.stop();
    await xvnc.stop();
  }
}

void main();
