/**
 * The screen page's keys and clipboard in Chromium, observed on the VM (issue #19), against a real
 * Xvnc (TigerVNC, whose clipboard is the X selections):
 * - a German and a French keyboard type the characters their users see (`ü`, `ß`, `ö`, AltGr+Q
 *   `@`; AZERTY `a`, `é`, AltGr+0 `@`), with Cmd ↔ Ctrl off and on, as xev on the VM reports;
 * - Cmd ↔ Ctrl: Ctrl+C reaches the VM as Control_L+c when off, Super_L (⌘)+c when on, remembered;
 *   the Send keys menu's ⌘C is Super_L+c either way;
 * - the clipboard both ways with the permission granted: the VM's copy is in the browser's
 *   clipboard without the panel, the browser's reaches the VM when the screen gets focus, and a
 *   paste shortcut sends it before the key;
 * - without the permission, focus never reads (so never prompts); a paste key hints at the panel;
 * - a view-only page and a watching page neither read nor write the browser's clipboard, nor send.
 *
 * Playwright's keyboard types as a US layout does; other layouts are what Chromium's DevTools
 * protocol dispatches with the `key`, `code` and key code such a keyboard gives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium, recordPageErrors, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type SeededUser, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { pollUntil } from '../helpers/ports.js';
import { registerTempDir, runCommand, spawnManaged, type ManagedProcess } from '../helpers/daemon.js';
import { messagesSent, recordSentFrames } from '../helpers/rfb-keys.js';
import { watchRootKeys, type XevHandle, type XKeyEvent } from '../helpers/xev.js';
import { CLIPBOARD_HINTS } from '../../client/src/screen/clipboard-sync.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
const VIEWPORT = { width: 1100, height: 800 } as const;
const XCLIP_PATH = '/usr/bin/xclip';
const SETXKBMAP_PATH = '/usr/bin/setxkbmap';
/** xclip serves the selection until another client takes it; stopped at once. */
const XCLIP_STOP_GRACE_MS = 3_000;
/** RFB ClientCutText (RFC 6143 §7.5.6), noVNC's extended clipboard notify and provide too. */
const CLIENT_CUT_TEXT = 6;
const KEY_V = 0x76;

interface ScreenPage {
  readonly page: Page;
  readonly errors: string[];
  sent(): Buffer[];
}

/** A key as a German or French keyboard on Linux reports it. */
interface LayoutKey {
  readonly key: string;
  readonly code: string;
  /** Windows virtual-key code, which Chromium reports as keyCode on every platform. */
  readonly keyCode: number;
  readonly altGr?: boolean;
  /** The keysym names xev reports on the VM for its presses, modifiers included. */
  readonly expected: readonly string[];
}

const GERMAN: readonly LayoutKey[] = [
  { key: 'ü', code: 'BracketLeft', keyCode: 186, expected: ['udiaeresis'] },
  { key: 'ß', code: 'Minus', keyCode: 219, expected: ['ssharp'] },
  { key: 'ö', code: 'Semicolon', keyCode: 192, expected: ['odiaeresis'] },
  { key: '@', code: 'KeyQ', keyCode: 81, altGr: true, expected: ['ISO_Level3_Shift', 'at'] },
];
/** AZERTY: the key where US keyboards have Q types `a`. */
const FRENCH: readonly LayoutKey[] = [
  { key: 'a', code: 'KeyQ', keyCode: 65, expected: ['a'] },
  { key: 'é', code: 'Digit2', keyCode: 50, expected: ['eacute'] },
  { key: '@', code: 'Digit0', keyCode: 48, altGr: true, expected: ['ISO_Level3_Shift', 'at'] },
];
/** Chromium's key code for AltGr on Linux (VKEY_ALTGR). */
const ALTGR_KEY_CODE = 225;

/** What the page's and the test's own clipboard calls go through: the page's are counted. */
interface ClipboardProbe {
  __clipboardCalls: { reads: number; writes: number };
  __clipboard: { read(): Promise<string>; write(text: string): Promise<void> };
}

/** Runs in each page before its scripts: counts the page's clipboard reads and writes. */
function countClipboardCalls(): void {
  // The page has one Clipboard object, navigator.clipboard.
  const read = navigator.clipboard.readText.bind(navigator.clipboard);
  const write = navigator.clipboard.writeText.bind(navigator.clipboard);
  const calls = { reads: 0, writes: 0 };
  const probe: ClipboardProbe = { __clipboardCalls: calls, __clipboard: { read, write } };
  Object.assign(window, probe);
  Clipboard.prototype.readText = (): Promise<string> => {
    calls.reads += 1;
    return read();
  };
  Clipboard.prototype.writeText = (text: string): Promise<void> => {
    calls.writes += 1;
    return write(text);
  };
}

describe("the screen's keys and clipboard, observed on the VM", () => {
  let xvnc: XvncHandle;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  let xev: XevHandle;
  let tmp: string;
  let releaseTmp: () => void;
  const contexts: BrowserContext[] = [];
  const clipboardOwners: ManagedProcess[] = [];

  before(async () => {
    // No xterm: with no window to take the keyboard, keys reach the root window, where xev listens.
    xvnc = await startXvnc();
    gw = await startGateway();
    world = await seedWorld(gw, { vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } });
    browser = await launchChromium();
    xev = await watchRootKeys(xvnc.display);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'porthole-clip-'));
    releaseTmp = registerTempDir(tmp);
  });
  after(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser.close();
    await gw.close();
    await Promise.all(clipboardOwners.map((owner) => owner.stop(XCLIP_STOP_GRACE_MS)));
    await xev.stop();
    await xvnc.stop();
    await fs.rm(tmp, { recursive: true, force: true });
    releaseTmp();
  });

  const vmEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DISPLAY: `:${xvnc.display}` });

  /** A context of its own, with the clipboard permissions granted to the gateway's origin unless `granted` is false. */
  async function newContext(granted = true): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    if (granted) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    await context.addInitScript(countClipboardCalls);
    return context;
  }

  async function openScreen(context: BrowserContext, user: SeededUser, query = '', ignoreConsole?: RegExp): Promise<ScreenPage> {
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page, ignoreConsole);
    const sent = recordSentFrames(page);
    await signInThroughForm(page, gw.url, user, `/builds/${world.builds.macRunning}/screen${query}`);
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors, sent };
  }

  /** The VM's user copies `text`: xclip owns the clipboard selection until another client takes it. */
  async function copyOnVm(text: string): Promise<void> {
    const file = path.join(tmp, `${crypto.randomUUID()}.txt`);
    await fs.writeFile(file, text);
    clipboardOwners.push(spawnManaged(XCLIP_PATH, ['-selection', 'clipboard', '-quiet', file], { env: vmEnv() }));
  }

  async function vmClipboard(): Promise<string> {
    try {
      return (await runCommand(XCLIP_PATH, ['-o', '-selection', 'clipboard'], { env: vmEnv() })).stdout.toString('utf8');
    } catch {
      // Nobody owns the selection yet.
      return '';
    }
  }

  const browserClipboard = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as ClipboardProbe).__clipboard.read());
  const setBrowserClipboard = (page: Page, text: string): Promise<void> => page.evaluate((t) => (window as unknown as ClipboardProbe).__clipboard.write(t), text);
  const clipboardCalls = (page: Page): Promise<{ reads: number; writes: number }> => page.evaluate(() => ({ ...(window as unknown as ClipboardProbe).__clipboardCalls }));
  const cutTextsSent = (screen: ScreenPage): number => messagesSent(screen.sent()).filter((m) => m.type === CLIENT_CUT_TEXT).length;

  async function typeLayoutKey(cdp: CDPSession, k: LayoutKey): Promise<void> {
    const altGr = { key: 'AltGraph', code: 'AltRight', windowsVirtualKeyCode: ALTGR_KEY_CODE, location: 2 };
    if (k.altGr === true) await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...altGr });
    const key = { key: k.key, code: k.code, windowsVirtualKeyCode: k.keyCode };
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', ...key, text: k.key, unmodifiedText: k.key });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...key });
    if (k.altGr === true) await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...altGr });
  }

  /** The VM's key events from `from` on, once it has pressed each of `wanted` and released every key it pressed. */
  async function vmKeysFrom(from: number, wanted: readonly string[]): Promise<XKeyEvent[]> {
    const since = (): XKeyEvent[] => xev.events().slice(from);
    const done = (): boolean => {
      const seen = since();
      const pressed = seen.filter((k) => k.press);
      return wanted.every((name) => pressed.some((k) => k.name === name)) && pressed.length * 2 === seen.length;
    };
    await pollUntil(`${wanted.join(', ')} pressed and released on the VM`, UI_TIMEOUT_MS, async () => done()).catch((err: unknown) => {
      throw new Error(`${String(err)}; the VM saw ${JSON.stringify(since())}`);
    });
    return since();
  }

  /**
   * The VM's keyboard layout. The VNC server types a keysym its layout lacks on a spare keycode it
   * maps for the moment, which xev, looking the keycode up later, may no longer find; the user's
   * own layout has the key.
   */
  async function setVmLayout(layout: string): Promise<void> {
    await runCommand(SETXKBMAP_PATH, ['-layout', layout], { env: vmEnv() });
  }

  const presses = (events: readonly XKeyEvent[]): string[] => events.filter((k) => k.press).map((k) => k.name);

  async function setCmdCtrl(page: Page, on: boolean): Promise<void> {
    const toggle = page.getByRole('button', { name: 'Cmd ↔ Ctrl' });
    if ((await toggle.getAttribute('aria-pressed')) !== String(on)) await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), String(on));
    await page.locator('#screen canvas').focus();
  }

  test('German and French layouts type what their keys show, with Cmd ↔ Ctrl off and on; Ctrl+C reaches the VM as Control_L+c, or Super_L+c with the option (remembered); the menu’s ⌘C is always ⌘C', async () => {
    const screen = await openScreen(await newContext(), world.users.developer);
    const { page } = screen;
    const cdp = await page.context().newCDPSession(page);

    for (const swapped of [false, true]) {
      await setCmdCtrl(page, swapped);
      for (const [layout, xkb, keys] of [['German', 'de', GERMAN], ['French', 'fr', FRENCH]] as const) {
        await setVmLayout(xkb);
        const from = xev.events().length;
        for (const k of keys) await typeLayoutKey(cdp, k);
        const expected = keys.flatMap((k) => k.expected);
        const seen = await vmKeysFrom(from, expected);
        assert.deepEqual(presses(seen), expected, `${layout} with Cmd ↔ Ctrl ${swapped ? 'on' : 'off'}: ${JSON.stringify(seen)}`);
      }

      await setVmLayout('us');
      const from = xev.events().length;
      await page.keyboard.press('Control+c');
      const seen = await vmKeysFrom(from, ['c']);
      assert.deepEqual(
        seen.map((k) => `${k.press ? 'press' : 'release'} ${k.name}`),
        swapped ? ['press Super_L', 'press c', 'release c', 'release Super_L'] : ['press Control_L', 'press c', 'release c', 'release Control_L'],
      );
    }

    // The Send keys menu means what it says, whatever the option.
    const from = xev.events().length;
    await page.locator('#special-keys').selectOption('cmd-c');
    const seen = await vmKeysFrom(from, ['c']);
    assert.deepEqual(
      seen.map((k) => `${k.press ? 'press' : 'release'} ${k.name}`),
      ['press Super_L', 'press c', 'release c', 'release Super_L'],
    );

    await page.reload();
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cmd ↔ Ctrl' }).getAttribute('aria-pressed'), 'true', 'remembered across a reload');
    await setCmdCtrl(page, false);
    assert.deepEqual(screen.errors, []);
    await page.close();
  });

  test("with the permission granted, the VM's copy is in the browser's clipboard, and the browser's reaches the VM on focus and before a paste key", async () => {
    const screen = await openScreen(await newContext(), world.users.developer);
    const { page } = screen;
    const tag = crypto.randomUUID().slice(0, 8);
    assert.equal(await page.locator('#clipboard-allow').isHidden(), true, 'nothing to allow');

    const fromVm = `Grüße vom VM ${tag}`;
    await copyOnVm(fromVm);
    await pollUntil("the VM's copy in the browser's clipboard", UI_TIMEOUT_MS, async () => (await browserClipboard(page)) === fromVm);
    assert.equal(await page.locator('#clipboard-panel').isHidden(), true, 'without opening the panel');
    assert.equal(await page.locator('#clipboard-text').inputValue(), fromVm, 'and the panel has it too');

    const fromUser = `Copied in the browser ✓ ${tag}`;
    await setBrowserClipboard(page, fromUser);
    await page.locator('#clipboard-toggle').focus();
    await page.locator('#screen canvas').focus();
    await pollUntil("the browser's copy on the VM", UI_TIMEOUT_MS, async () => (await vmClipboard()) === fromUser);
    // The VM's server announces the text it was given; it is not written back or sent again.
    const sentBefore = cutTextsSent(screen);
    await page.locator('#clipboard-toggle').focus();
    await page.locator('#screen canvas').focus();
    assert.equal(cutTextsSent(screen), sentBefore, 'an unchanged clipboard is not sent again');

    // No focus change: the paste key itself makes the page read, and holds the key until it sent.
    const pasted = `Pasted with Ctrl+V ${tag}`;
    await setBrowserClipboard(page, pasted);
    const messagesBefore = messagesSent(screen.sent()).length;
    const from = xev.events().length;
    await page.keyboard.press('Control+v');
    await vmKeysFrom(from, ['v']);
    const after = messagesSent(screen.sent()).slice(messagesBefore);
    const cut = after.findIndex((m) => m.type === CLIENT_CUT_TEXT);
    const vDown = after.findIndex((m) => m.key?.keysym === KEY_V && m.key.down);
    assert.ok(cut >= 0 && vDown > cut, `the clipboard goes before the V key: ${JSON.stringify(after)}`);
    await pollUntil('the pasted text on the VM', UI_TIMEOUT_MS, async () => (await vmClipboard()) === pasted);
    assert.deepEqual(screen.errors, []);
    await page.close();
  });

  test('without the permission, focus never reads the clipboard; a paste key says the panel is the way, which offers Allow', async () => {
    const screen = await openScreen(await newContext(false), world.users.developer);
    const { page } = screen;
    await page.locator('#clipboard-toggle').focus();
    await page.locator('#screen canvas').focus();
    await page.keyboard.press('Control+v');
    await page.locator('#term-banner', { hasText: CLIPBOARD_HINTS.notAllowed }).waitFor();
    assert.deepEqual(await clipboardCalls(page), { reads: 0, writes: 0 }, 'no read, so no prompt');
    await page.locator('#clipboard-toggle').click();
    await page.locator('#clipboard-allow').waitFor();
    assert.deepEqual(screen.errors, []);
    await page.close();
  });

  test("a view-only page and a watching page neither read nor write the browser's clipboard, nor send it", async () => {
    const owner = await openScreen(await newContext(), world.users.developer);
    const list = `${gw.url}/api/v1/builds/${world.builds.macRunning}/live-sessions`;
    const sessions = ((await (await owner.page.request.get(list)).json()) as { sessions: { sessionId: string; kind: string; yours: boolean }[] }).sessions;
    const mine = sessions.find((s) => s.kind === 'vnc' && s.yours);
    assert.ok(mine, "the owner's screen is in the build's live sessions");
    const watcher = await openScreen(await newContext(), world.users.admin, `?watch=${mine.sessionId}`);
    await owner.page.locator('#view-only-toggle').click();
    assert.equal(await owner.page.locator('#view-only-toggle').getAttribute('aria-pressed'), 'true');
    // A page that may send, whose panel shows when the VM's copy has gone out to its viewers.
    const witness = await openScreen(await newContext(), world.users.owner);
    const pages = [owner, watcher];
    const callsBefore = await Promise.all(pages.map(({ page }) => clipboardCalls(page)));
    const sentBefore = pages.map(cutTextsSent);

    const fromVm = `Copied on the VM ${crypto.randomUUID().slice(0, 8)}`;
    await copyOnVm(fromVm);
    await pollUntil("the VM's copy in the witness's panel", UI_TIMEOUT_MS, async () => (await witness.page.locator('#clipboard-text').inputValue()) === fromVm);
    for (const { page } of pages) {
      // The screen gets focus and a paste key, as for the witness, which reads and sends on them.
      await page.locator('#clipboard-toggle').focus();
      await page.locator('#screen canvas').focus();
      await page.keyboard.press('Control+v');
      assert.equal(await page.locator('#clipboard-allow').isHidden(), true);
      // noVNC does not even tell a view-only page what the VM copied: the panel stays as it was.
      assert.notEqual(await page.locator('#clipboard-text').inputValue(), fromVm);
      assert.equal(await page.locator('#conn-state').getAttribute('data-state'), 'connected', "the VM's copy does not stop a view-only viewer");
    }
    assert.deepEqual(await Promise.all(pages.map(({ page }) => clipboardCalls(page))), callsBefore, 'no clipboard read or write');
    assert.deepEqual(pages.map(cutTextsSent), sentBefore, 'nothing sent to the VM');
    await witness.page.close();
    await watcher.page.close();
    await owner.page.close();
    assert.deepEqual([...owner.errors, ...watcher.errors, ...witness.errors], []);
  });
});
