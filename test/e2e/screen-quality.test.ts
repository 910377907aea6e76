/**
 * The screen's Quality control in Chromium against a real Xvnc (issue #19), seen in the RFB the
 * page exchanges: each preset makes noVNC send its JPEG quality and compression pseudo-encodings,
 * and the VM's Tight JPEG rectangles then change with it (their quantisation tables and bytes).
 * Auto, behind the link simulator between the gateway and the VM: it tries Sharp on a direct link
 * and never drops below Balanced there, steps down on a 5 Mbit/s, 150 ms link while the desktop
 * keeps changing, and climbs back once the link is direct again.
 *
 * The changing desktop is an xterm painting random 256-colour cells: more colours in each region
 * than TigerVNC puts in a palette, so it sends them as Tight JPEG at every quality level.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, recordPageErrors, signInThroughForm } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { seedWorld, type World } from '../helpers/seed.js';
import { startXvnc, type XvncHandle } from '../helpers/xvnc.js';
import { pollUntil } from '../helpers/ports.js';
import { spawnManaged, type ManagedProcess } from '../helpers/daemon.js';
import { recordSentFrames } from '../helpers/rfb-keys.js';
import { LINK_PROFILES, startLinkSimulator, type LinkSimulator } from '../helpers/link-simulator.js';
import { compressionLevelOf, Encoding, encodingsSent, qualityLevelOf, recordReceivedFrames, updatesReceived, type ReceivedRect, type ReceivedUpdate } from '../helpers/rfb-traffic.js';
import { QUALITY_PRESETS, type QualityPreset } from '../../client/src/screen/quality.js';

/** Bounds each UI wait; waits are on conditions, never on time. */
const UI_TIMEOUT_MS = 20_000;
/**
 * Bounds the wait for a preset's JPEG rectangles: the painter, Xvnc's encoder and Chromium share two
 * cores with the rest of the suite, and once took more than 20 s to deliver them.
 */
const PRESET_RECTANGLES_TIMEOUT_MS = 60_000;
/**
 * Bounds Auto's moves: each step up needs 8 s of room (more after a failed try), each step down a
 * couple of slow seconds, and this 2-core machine runs other suites beside this one.
 */
const AUTO_TIMEOUT_MS = 150_000;
const VIEWPORT = { width: 1280, height: 900 } as const;
interface Painting {
  /** xterm's -geometry: cells and position, inside the 1024×768 desktop. */
  readonly geometry: string;
  /** Cells painted per repaint: the window's rows but the last, which would scroll. */
  readonly cells: number;
  /** Seconds between repaints: the desktop changes a few times a second. */
  readonly pauseSeconds: string;
}

/** About 600×500 pixels: on a 5 Mbit/s link a Balanced update of it takes longer than Auto allows. */
const LARGE: Painting = { geometry: '100x40+400+200', cells: 100 * 39, pauseSeconds: '0.2' };
/** About 300×200 pixels: light enough for this busy 2-core machine to encode and draw at Sharp. */
const SMALL: Painting = { geometry: '50x16+400+200', cells: 50 * 15, pauseSeconds: '0.3' };
/** JPEG updates read per preset. */
const JPEG_UPDATES_PER_PRESET = 3;
const PRESETS_SHARP_FIRST: readonly QualityPreset[] = ['sharp', 'balanced', 'fast', 'smallest'];
/** libjpeg's quality 100 (TigerVNC's level 9, and its lossless refresh): every quantiser 1. */
const LOSSLESS_QUANT_SUM = 64;

interface ScreenPage {
  readonly page: Page;
  readonly errors: string[];
  readonly sent: () => Buffer[];
  readonly received: () => Buffer[];
}

describe('the screen’s Quality presets and Auto, seen in the RFB traffic', () => {
  let xvnc: XvncHandle;
  let link: LinkSimulator;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let painter: ManagedProcess | null = null;

  before(async () => {
    xvnc = await startXvnc();
    link = await startLinkSimulator({ host: xvnc.host, port: xvnc.port }, LINK_PROFILES.lan);
    gw = await startGateway();
    world = await seedWorld(gw, { vnc: { host: link.host, port: link.port, password: xvnc.password } });
    browser = await launchChromium();
  });
  after(async () => {
    await paint(null);
    for (const context of contexts) await context.close();
    await browser.close();
    await gw.close();
    await link.close();
    await xvnc.stop();
  });

  /** Repaints an xterm with random colours, as `painting` says; null stops it. */
  async function paint(painting: Painting | null): Promise<void> {
    await painter?.stop(1000);
    painter = null;
    if (painting === null) return;
    const script = `while :; do s=''; for ((i=0;i<${painting.cells};i++)); do s+=$'\\e[48;5;'$((RANDOM%256))'m '; done; printf '\\e[H%s' "$s"; sleep ${painting.pauseSeconds}; done`;
    painter = spawnManaged('/usr/bin/xterm', ['-geometry', painting.geometry, '-fn', 'fixed', '-e', 'bash', '--norc', '--noprofile', '-c', script], {
      env: { ...process.env, DISPLAY: `:${xvnc.display}`, TERM: 'xterm' },
    });
  }

  /** A fresh browser profile (so the stored choice is the default) on the screen page, connected. */
  async function openScreen(): Promise<ScreenPage> {
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const errors = recordPageErrors(page);
    const sent = recordSentFrames(page);
    const received = recordReceivedFrames(page);
    await signInThroughForm(page, gw.url, world.users.owner, `/builds/${world.builds.macRunning}/screen`);
    await page.locator('#conn-state[data-state="connected"]').waitFor();
    return { page, errors, sent, received };
  }

  function jpegRects(updates: readonly ReceivedUpdate[], fromUpdate: number): ReceivedRect[][] {
    return updates
      .slice(fromUpdate)
      .map((u) => u.rects.filter((r) => r.tight === 'jpeg'))
      .filter((rects) => rects.length > 0);
  }

  test('noVNC asks for CopyRect, Tight and ZRLE before Raw, and the VM answers in Tight, not Raw', async () => {
    const screen = await openScreen();
    await paint(SMALL);
    await pollUntil('the first SetEncodings', UI_TIMEOUT_MS, async () => encodingsSent(screen.sent()).length > 0);
    const real = (encodingsSent(screen.sent())[0] ?? []).filter((e) => e >= 0 && e < 0x100);
    assert.equal(real[0], Encoding.copyRect, `CopyRect first: ${real.join(', ')}`);
    assert.equal(real.at(-1), Encoding.raw, 'Raw last: the fallback for what nothing else can carry');
    assert.ok(real.indexOf(Encoding.tight) < real.indexOf(Encoding.zrle), 'Tight before ZRLE');
    await pollUntil('JPEG rectangles from the painter', UI_TIMEOUT_MS, async () => jpegRects(updatesReceived(screen.received()), 0).length >= JPEG_UPDATES_PER_PRESET);
    const encodingsUsed = new Set(updatesReceived(screen.received()).flatMap((u) => u.rects.map((r) => r.encoding)).filter((e) => e >= 0 && e < 0x100));
    assert.ok(!encodingsUsed.has(Encoding.raw), `no Raw rectangles: ${[...encodingsUsed].join(', ')}`);
    assert.ok(encodingsUsed.has(Encoding.tight));
    assert.deepEqual(screen.errors, []);
    await screen.page.close();
  });

  test('each preset: its quality and compression pseudo-encodings, then the VM’s JPEG rectangles at that quality', async () => {
    const screen = await openScreen();
    const { page } = screen;
    await paint(LARGE);
    const seen: { preset: QualityPreset; quantSum: number; bytesPerPixel: number }[] = [];
    for (const preset of PRESETS_SHARP_FIRST) {
      const { quality, compression } = QUALITY_PRESETS[preset];
      await page.locator('#quality').selectOption(preset);
      await pollUntil(`SetEncodings for ${preset}`, UI_TIMEOUT_MS, async () => {
        const last = encodingsSent(screen.sent()).at(-1) ?? [];
        return qualityLevelOf(last) === quality && compressionLevelOf(last) === compression;
      });
      // Updates already on the wire were encoded at the preset before: read the latest ones once they
      // agree. TigerVNC later resends areas that stopped changing as JPEG at quality 100 (its
      // "lossless refresh"): below Sharp those are not the preset's.
      const from = updatesReceived(screen.received()).length;
      // The recorded stream is parsed once per look, and the rectangles that answered are the ones measured.
      let rects: ReceivedRect[] = [];
      await pollUntil(`JPEG rectangles at ${preset}`, PRESET_RECTANGLES_TIMEOUT_MS, async () => {
        const updates = updatesReceived(screen.received());
        rects = jpegRects(updates, from)
          .map((inUpdate) => inUpdate.filter((r) => preset === 'sharp' || r.jpegQuantSum !== LOSSLESS_QUANT_SUM))
          .filter((inUpdate) => inUpdate.length > 0)
          .slice(-JPEG_UPDATES_PER_PRESET)
          .flat();
        const sums = [...new Set(rects.map((r) => r.jpegQuantSum))];
        if (rects.length >= JPEG_UPDATES_PER_PRESET && sums.length === 1 && sums[0] !== seen.at(-1)?.quantSum) return true;
        // What was seen, for the timeout's message.
        throw new Error(`${updates.length - from} updates since the switch; the latest JPEG ones: ${rects.length} rectangles, quantiser sums ${sums.join(', ') || 'none'}`);
      });
      const bytes = rects.reduce((sum, r) => sum + r.bytes, 0);
      const pixels = rects.reduce((sum, r) => sum + r.width * r.height, 0);
      seen.push({ preset, quantSum: rects[0]?.jpegQuantSum ?? 0, bytesPerPixel: bytes / pixels });
    }
    const report = JSON.stringify(seen);
    assert.equal(seen[0]?.quantSum, LOSSLESS_QUANT_SUM, `Sharp: JPEG quality 100: ${report}`);
    for (let i = 1; i < seen.length; i += 1) {
      assert.ok((seen[i]?.quantSum ?? 0) > (seen[i - 1]?.quantSum ?? 0), `each preset quantises more coarsely than the one before: ${report}`);
      assert.ok((seen[i]?.bytesPerPixel ?? 0) < (seen[i - 1]?.bytesPerPixel ?? 0), `and spends fewer bytes on the same kind of picture: ${report}`);
    }
    assert.deepEqual(screen.errors, []);
    await screen.page.close();
  });

  test('Auto: up to Sharp on a direct link, down on a slow one while the desktop changes, and back up when the link is direct again', async () => {
    link.setProfile(LINK_PROFILES.lan);
    const screen = await openScreen();
    const { page } = screen;
    const quality = page.locator('#quality');
    assert.equal(await quality.inputValue(), 'auto', 'Auto by default');
    await paint(SMALL);
    const qualitiesAsked = (): number[] => encodingsSent(screen.sent()).map((list) => qualityLevelOf(list) ?? -1);
    // Sharp may not hold on this busy 2-core machine (encoding and decoding its JPEGs take time): Auto must try it.
    await pollUntil('Auto trying Sharp on the direct link', AUTO_TIMEOUT_MS, async () => qualitiesAsked().includes(QUALITY_PRESETS.sharp.quality));
    assert.match((await quality.locator('option[value="auto"]').textContent()) ?? '', /^Quality: Auto \((Sharp|Balanced)\)$/, 'the select says what Auto chose');
    assert.ok(Math.min(...qualitiesAsked()) >= QUALITY_PRESETS.balanced.quality, `never below Balanced on the direct link: ${qualitiesAsked().join(', ')}`);

    link.setProfile(LINK_PROFILES.slow);
    await paint(LARGE);
    await pollUntil('Auto below Balanced on the slow link', AUTO_TIMEOUT_MS, async () => ['fast', 'smallest'].includes((await quality.getAttribute('data-auto-level')) ?? ''));
    const down = encodingsSent(screen.sent()).at(-1) ?? [];
    assert.ok((qualityLevelOf(down) ?? 9) <= QUALITY_PRESETS.fast.quality, `the page asked the VM for fewer bytes: ${qualityLevelOf(down)}`);

    link.setProfile(LINK_PROFILES.lan);
    await paint(SMALL);
    await pollUntil('Auto back at Balanced or Sharp on the direct link', AUTO_TIMEOUT_MS, async () => ['balanced', 'sharp'].includes((await quality.getAttribute('data-auto-level')) ?? ''));
    assert.ok((qualityLevelOf(encodingsSent(screen.sent()).at(-1) ?? []) ?? 0) >= QUALITY_PRESETS.balanced.quality);
    await paint(null);
    assert.deepEqual(screen.errors, []);
    await page.close();
  });
});
