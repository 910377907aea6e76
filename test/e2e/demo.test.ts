/**
 * The README's demo as a person tries it (issue #21, "Delivery"): the console keeps the banner
 * while the gateway's log goes to a file; the embedding example on another loopback site launches
 * through its own backend, and in Chromium frames a terminal that reaches the VM (third-party
 * cookies blocked, as for many real users); and the demo app records terminal sessions. One demo
 * process for the file: it starts sshd, Xvnc and the gateway.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Frame, Page } from 'playwright-core';
import { BLOCK_THIRD_PARTY_COOKIES_ARG, launchChromium, recordPageErrors } from '../helpers/chromium.js';
import { startDemoProcess, type DemoProcess } from '../helpers/demo-process.js';
import { exchangeOk, parseLaunchUrl } from '../helpers/embed.js';
import { connectTerminal, type Ticket } from '../helpers/terminal-client.js';
import { pollUntil } from '../helpers/ports.js';
import { signIn } from '../helpers/seed.js';
import { parseAsciicast } from '../helpers/asciicast.js';

/** Bounds each wait for a line to reach the log file; waits are on the file's content, never on time. */
const LOG_WAIT_MS = 10_000;
/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;

describe('the demo', () => {
  let demo: DemoProcess;
  let browser: Browser;

  before(async () => {
    demo = await startDemoProcess();
    // Without WebGL xterm.js draws with DOM rows the test can read.
    browser = await launchChromium(['--disable-3d-apis', BLOCK_THIRD_PARTY_COOKIES_ARG]);
  });

  after(async () => {
    await browser.close();
    await demo.stop();
  });

  const waitForLogLine = async (what: string, matches: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    let found: Record<string, unknown> | undefined;
    await pollUntil(`${what} in ${demo.logFile}`, LOG_WAIT_MS, async () => {
      found = demo.logLines().find(matches);
      return found !== undefined;
    });
    return found as Record<string, unknown>;
  };

  const launchThroughExample = (kind: string, origin: string | null = demo.exampleOrigin): Promise<Response> =>
    fetch(`${demo.exampleOrigin}/launch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(origin === null ? {} : { Origin: origin }) },
      body: JSON.stringify({ kind }),
    });

  test('the console shows the banner; requests and events go to the log file', async () => {
    const res = await fetch(`${demo.gateway.url}/api/v1/builds/demo-linux`, { headers: { Authorization: `Bearer ${demo.gateway.controlToken}` } });
    assert.equal(res.status, 200);
    const line = await waitForLogLine('the build read', (l) => {
      const req = l['req'] as { method?: string; url?: string } | undefined;
      return l['msg'] === 'request completed' && req?.method === 'GET' && req.url === '/api/v1/builds/demo-linux';
    });
    assert.equal((line['res'] as { statusCode: number }).statusCode, 200);

    const logged = demo.logLines();
    assert.ok(logged.some((l) => l['event'] === 'listening'), 'start-up events are in the file');
    assert.ok(
      logged.some((l) => l['msg'] === 'request completed' && (l['req'] as { url?: string }).url === '/api/v1/apps/demo-app'),
      'the seeding requests are in the file',
    );
    const console = demo.consoleOutput();
    assert.match(console, /Porthole demo is running: /);
    assert.match(console, /tail -f /);
    const jsonLines = console.split('\n').filter((l) => l.trimStart().startsWith('{'));
    assert.deepEqual(jsonLines, [], 'no log line on the console: nothing went wrong, so only the banner');
  });

  test('the embedding example: its page loads the SDK from the gateway, its backend launches, the launch gives a credential', async () => {
    const page = await fetch(`${demo.exampleOrigin}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(html.includes(`<script type="module" src="${demo.gateway.origin}/sdk/porthole-embed.js"></script>`), html);
    assert.match(page.headers.get('content-security-policy') ?? '', new RegExp(`frame-src ${demo.gateway.origin}`));
    const script = await (await fetch(`${demo.exampleOrigin}/page.js`)).text();
    assert.match(script, /porthole-terminal/);
    for (const served of [html, script]) assert.ok(!served.includes(demo.gateway.controlToken), 'the control token stays in the backend');
    assert.equal((await fetch(`${demo.gateway.origin}/sdk/porthole-embed.js`)).status, 200);

    assert.equal((await launchThroughExample('ssh', null)).status, 403, 'only its own page may launch');
    assert.equal((await launchThroughExample('ssh', demo.gateway.origin)).status, 403);
    assert.equal((await launchThroughExample('rdp')).status, 400);

    const launched = await launchThroughExample('ssh');
    const text = await launched.text();
    assert.equal(launched.status, 201, text);
    assert.ok(!text.includes(demo.gateway.controlToken));
    const { url } = JSON.parse(text) as { url: string };
    const parsed = parseLaunchUrl(url);
    assert.equal(new URL(url).origin, demo.gateway.origin);
    assert.equal(parsed.kind, 'ssh');
    assert.equal(parsed.parentOrigin, demo.exampleOrigin);
    // The gateway lets the example, and only it, frame the embed page.
    const framed = await fetch(`${demo.gateway.origin}${parsed.path}`);
    assert.equal(framed.status, 200);
    assert.match(framed.headers.get('content-security-policy') ?? '', new RegExp(`frame-ancestors ${demo.exampleOrigin}$`));
    const credential = await exchangeOk(demo.gateway, url);
    assert.ok(credential.credential.length > 0);

    const screen = await launchThroughExample('vnc');
    assert.equal(screen.status, 201);
    assert.equal(parseLaunchUrl(((await screen.json()) as { url: string }).url).kind, 'vnc');
  });

  test("the demo app records terminal sessions: a session through the example shows up in the build's recordings", async () => {
    const launched = (await (await launchThroughExample('ssh')).json()) as { url: string };
    const { credential } = await exchangeOk(demo.gateway, launched.url);
    const minted = await fetch(`${demo.gateway.origin}/api/v1/embed/connections`, {
      method: 'POST',
      headers: { Origin: demo.gateway.origin, Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(minted.status, 201);
    const terminal = await connectTerminal((await minted.json()) as Ticket, demo.gateway);
    const ready = await terminal.waitForControl('ready');
    assert.equal(ready.type === 'ready' && ready.recorded, true, 'the session is recorded and says so');
    terminal.type('echo demo-$((6*7))-recorded\r');
    await terminal.waitForOutput(/demo-42-recorded/);
    terminal.close();
    await terminal.closed;
    await waitForLogLine('the recording finishing', (l) => l['event'] === 'recording_finished');

    const owner = await signIn(demo.gateway, { id: 'demo-owner', ...demo.owner });
    const listed = await owner.get('/api/v1/builds/demo-linux/recordings');
    assert.equal(listed.status, 200);
    const recordings = listed.body.recordings as { url: string; replayUrl: string; endedAt: string | null }[];
    assert.equal(recordings.length, 1, JSON.stringify(listed.body));
    assert.notEqual(recordings[0]?.endedAt, null);
    const cast = await owner.get(recordings[0]?.url ?? '');
    assert.equal(cast.status, 200);
    assert.match(parseAsciicast(cast.text).output, /demo-42-recorded/);
    const listPage = await owner.get('/builds/demo-linux/recordings');
    assert.equal(listPage.status, 200);
    assert.ok(listPage.text.includes(recordings[0]?.replayUrl ?? '-'), 'the build\'s "Session recordings" page offers the replay');
  });

  // Last: its terminal is recorded too, which the recordings test above counts without.
  const waitForEventLine = async (page: Page, type: string, count: number): Promise<void> => {
    await page.waitForFunction(
      ({ type, count }) => [...document.querySelectorAll('#events li')].filter((li) => li.textContent?.startsWith(`${type} `)).length >= count,
      { type, count },
    );
  };

  const frameOf = async (page: Page, selector: string): Promise<Frame> => {
    const frame = await (await page.locator(`${selector} iframe`).elementHandle())?.contentFrame();
    assert.ok(frame, `${selector} has a frame`);
    return frame;
  };

  test("the page frames the owner's terminal, which reaches the VM's shell; the screen button frames the desktop", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    // CSP violations (the example's own, or the gateway's frame-ancestors) are console errors.
    const errors = recordPageErrors(page);
    await page.goto(`${demo.exampleOrigin}/`);

    await waitForEventLine(page, 'porthole:connected', 1);
    const terminal = await frameOf(page, 'porthole-terminal');
    assert.equal(new URL(terminal.url()).origin, demo.gateway.origin);
    await terminal.locator('.xterm').click();
    await page.keyboard.type('echo $((6*7))-typed-in-the-example');
    await page.keyboard.press('Enter');
    await terminal.locator('.xterm-rows > div').filter({ hasText: /^42-typed-in-the-example/ }).first().waitFor();

    await page.getByRole('button', { name: 'Screen (demo-macos)' }).click();
    await waitForEventLine(page, 'porthole:connected', 2);
    assert.equal(await page.locator('porthole-terminal').count(), 0, 'the terminal made way for the screen');
    const screen = await frameOf(page, 'porthole-screen');
    await screen.locator('canvas').first().waitFor();

    assert.deepEqual(errors, []);
    await context.close();
  });
});
