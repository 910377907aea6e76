/** A recorded terminal session replays in Chromium with asciinema-player, under the strict CSP. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, signInThroughForm, recordPageErrors, pageWidths } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';
import { pollUntil } from '../helpers/ports.js';
import { parseAsciicast } from '../helpers/asciicast.js';
import type { RecordingView } from '../../shared/src/api.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
const RECORDING_FINISH_TIMEOUT_MS = 10_000;

describe('session replay in Chromium', () => {
  let sshd: SshdHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;

  before(async () => {
    sshd = await startSshd();
    gw = await startGateway();
    world = await seedWorld(gw, { ssh: passwordEndpoint(sshd) });
    await control(gw).put('/apps/app-1', { name: 'Mobile App', recordSessions: true });
    // Without WebGL xterm.js draws rows in the DOM, which the test can read.
    browser = await launchChromium(['--disable-3d-apis']);
  });
  after(async () => {
    await browser.close();
    await gw.close();
    await sshd.stop();
  });

  test('the build page leads to the recording, and the player shows what the terminal showed', async () => {
    const agent = await signIn(gw, world.users.developer);
    const t = await connectTerminal(await mintTicket(gw, agent, 'build-linux'), gw, { size: { cols: 100, rows: 30 } });
    await t.waitForControl('ready');
    t.type("printf 'replay-%s\\n' $((6*7))\r");
    await t.waitForOutput(/[\r\n]replay-42\r\n/);
    t.ws.close(1000);
    await t.closed;
    let recording: RecordingView | undefined;
    await pollUntil('recording finished', RECORDING_FINISH_TIMEOUT_MS, async () => {
      [recording] = ((await agent.get('/api/v1/builds/build-linux/recordings')).body as { recordings: RecordingView[] }).recordings;
      return recording?.endedAt !== null && recording?.endedAt !== undefined;
    });
    assert.ok(recording);
    const file = await agent.get(recording.url).buffer(true);
    assert.match(parseAsciicast(String(file.text)).output, /replay-42/);

    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);
    await signInThroughForm(page, gw.url, world.users.developer, '/builds/build-linux');
    await page.getByRole('link', { name: 'Session recordings' }).click();
    await page.waitForURL(`${gw.url}/builds/build-linux/recordings`);
    await page.getByRole('link', { name: 'Replay' }).click();
    await page.waitForURL(`${gw.url}${recording.replayUrl}`);

    const screen = page.locator('#player pre.ap-term-text');
    await screen.filter({ hasText: /replay-42/ }).waitFor();
    const shown = (await screen.textContent()) ?? '';
    assert.match(shown, /\$ printf 'replay-%s\\n' \$\(\(6\*7\)\)/, 'the command line as the terminal echoed it');
    assert.match(shown, /replay-42/);

    // Issue #21: the page's width, controls that show without hovering, a speed that is remembered.
    const player = await page.locator('#player').boundingBox();
    assert.ok(player && player.width > 1000, `the player uses the window's width: ${JSON.stringify(player)}`);
    await page.mouse.move(0, 0);
    assert.equal(await page.locator('#player .ap-control-bar').isVisible(), true, 'controls are visible without hovering');
    await page.locator('#replay-speed').selectOption('2');
    await screen.filter({ hasText: /replay-42/ }).waitFor();
    await page.reload();
    assert.equal(await page.locator('#replay-speed').inputValue(), '2', 'the speed is remembered');
    await screen.filter({ hasText: /replay-42/ }).waitFor();
    // At a phone's width the page does not scroll sideways; the player fits it.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await screen.filter({ hasText: /replay-42/ }).waitFor();
    const phone = await pageWidths(page);
    assert.ok(phone.scrollWidth <= phone.clientWidth, `the replay page scrolls sideways at 390 px: ${JSON.stringify(phone)}`);
    assert.deepEqual(errors, [], 'no script errors and no CSP violations');
    await context.close();
  });

  test('a recorded session says so on the terminal page: a badge and a line in the pane (issue #21)', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await signInThroughForm(page, gw.url, world.users.developer, '/builds/build-linux/terminal');
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    await page.locator('#recording-badge').waitFor({ state: 'visible' });
    await page.locator('.xterm-rows > div', { hasText: 'This session is recorded' }).first().waitFor();
    await page.close();
  });
});
