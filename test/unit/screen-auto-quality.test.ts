import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTO_LADDER,
  AUTO_START,
  autoLevel,
  decideAuto,
  DOWN_AFTER_SAMPLES,
  DOWN_DELAY_MS,
  initialAutoState,
  PROBE_WINDOW_MS,
  START_GRACE_MS,
  UP_DELAY_MS,
  UP_DWELL_MAX_MS,
  UP_DWELL_MS,
  type AutoState,
} from '../../client/src/screen/auto-quality.js';
import type { QualityPreset } from '../../client/src/screen/quality.js';

/** The page samples once a second. */
const SAMPLE_EVERY_MS = 1000;
/** A desktop that keeps changing: a few updates each second. */
const BUSY_UPDATES = 5;

interface Run {
  state: AutoState;
  now: number;
  /** Each level change: when, and to what. */
  readonly changes: { atMs: number; level: QualityPreset }[];
}

/** A connection past its start-up grace (whose samples are ignored). */
function start(): Run {
  return { state: initialAutoState(-START_GRACE_MS), now: 0, changes: [] };
}

/** `seconds` samples, each with the update time `delayMs(level, second)` returns (null: an idle second). */
function feed(run: Run, seconds: number, delayMs: (level: QualityPreset, second: number) => number | null): Run {
  for (let i = 0; i < seconds; i += 1) {
    run.now += SAMPLE_EVERY_MS;
    const before = autoLevel(run.state);
    const slowest = delayMs(before, i);
    run.state = decideAuto(run.state, { atMs: run.now, updates: slowest === null ? 0 : BUSY_UPDATES, p75UpdateMs: slowest });
    if (autoLevel(run.state) !== before) run.changes.push({ atMs: run.now, level: autoLevel(run.state) });
  }
  return run;
}

/** A deterministic noise source (mulberry32), so a failure can be replayed. */
function noise(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('a connection starts at Balanced, and the thresholds leave a band between up and down', () => {
  assert.equal(autoLevel(initialAutoState(0)), AUTO_START);
  assert.equal(AUTO_START, 'balanced');
  assert.deepEqual(AUTO_LADDER, ['smallest', 'fast', 'balanced', 'sharp']);
  assert.ok(UP_DELAY_MS * 2 < DOWN_DELAY_MS, 'the next rung’s larger updates fit under the down threshold');
});

test('down quickly when updates queue: after DOWN_AFTER_SAMPLES slow seconds, one rung at a time', () => {
  const run = feed(start(), 1, () => DOWN_DELAY_MS * 3);
  assert.equal(autoLevel(run.state), 'balanced', 'one slow second (a window opening) is not a trend');
  feed(run, DOWN_AFTER_SAMPLES - 1, () => DOWN_DELAY_MS * 3);
  assert.equal(autoLevel(run.state), 'fast');
  assert.equal(run.changes[0]?.atMs, DOWN_AFTER_SAMPLES * SAMPLE_EVERY_MS);
  // Still queueing at Fast: the second after the change is ignored (its updates were encoded at Balanced), then two more.
  feed(run, 1 + DOWN_AFTER_SAMPLES, () => DOWN_DELAY_MS * 3);
  assert.deepEqual(run.changes.map((c) => c.level), ['fast', 'smallest']);
});

test('the start-up is not the link: the first full-screen update and the page’s own loading are ignored', () => {
  const run: Run = { state: initialAutoState(0), now: 0, changes: [] };
  feed(run, START_GRACE_MS / SAMPLE_EVERY_MS - 1, () => DOWN_DELAY_MS * 3);
  assert.equal(autoLevel(run.state), 'balanced');
  feed(run, DOWN_AFTER_SAMPLES, () => DOWN_DELAY_MS * 3);
  assert.equal(autoLevel(run.state), 'fast', 'slow seconds after it count');
});

test('up only after sustained room: UP_DWELL_MS without a slow second, most with room, and updates arriving', () => {
  const run = feed(start(), UP_DWELL_MS / SAMPLE_EVERY_MS - 1, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(run.state), 'balanced', 'not before the dwell');
  feed(run, 2, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(run.state), 'sharp');

  const odd = feed(start(), 6, () => UP_DELAY_MS / 2);
  feed(odd, 1, () => UP_DELAY_MS * 2);
  feed(odd, 2, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(odd.state), 'sharp', 'an odd middling second (a busy browser) does not hold a fast link back');

  const middling = feed(start(), 4, () => UP_DELAY_MS / 2);
  feed(middling, 3, () => UP_DELAY_MS * 2);
  feed(middling, 6, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(middling.state), 'balanced', 'a run of middling seconds restarts the dwell');
  feed(middling, 3, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(middling.state), 'sharp');

  const slow = feed(start(), 6, () => UP_DELAY_MS / 2);
  feed(slow, 1, () => DOWN_DELAY_MS * 2);
  feed(slow, 6, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(slow.state), 'balanced', 'one slow second restarts the dwell');
  feed(slow, 3, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(slow.state), 'sharp');

  const idle = feed(start(), 60, () => null);
  assert.equal(autoLevel(idle.state), 'balanced', 'an idle desktop proves nothing');
});

test('bounds: never below Smallest or above Sharp', () => {
  const slow = feed(start(), 120, () => DOWN_DELAY_MS * 10);
  assert.equal(autoLevel(slow.state), 'smallest');
  assert.deepEqual(slow.changes.map((c) => c.level), ['fast', 'smallest']);
  const fast = feed(start(), 600, () => 1);
  assert.equal(autoLevel(fast.state), 'sharp');
  assert.deepEqual(fast.changes.map((c) => c.level), ['sharp']);
});

test('no flapping on a noisy but stable link: delays jumping anywhere between the thresholds change nothing', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = noise(seed);
    // Mostly room, often middling, never queueing: the jitter of Wi-Fi or a busy browser.
    const run = feed(start(), 600, () => 20 + random() * (DOWN_DELAY_MS - 30));
    assert.ok(run.changes.length <= 1, `seed ${seed}: ${JSON.stringify(run.changes)}`);
  }
  // Spikes over the threshold, but never two seconds in a row.
  const spiky = feed(start(), 600, (_level, second) => (second % 3 === 0 ? DOWN_DELAY_MS * 2 : UP_DELAY_MS * 1.5));
  assert.deepEqual(spiky.changes, []);
});

test('a rung the link cannot carry is retried ever more rarely, at most every UP_DWELL_MAX_MS', () => {
  // Balanced fits with room; Sharp queues.
  const run = feed(start(), 1800, (level) => (level === 'sharp' ? DOWN_DELAY_MS * 2 : UP_DELAY_MS / 2));
  const probes = run.changes.filter((c) => c.level === 'sharp').map((c) => c.atMs);
  assert.ok(probes.length >= 3, JSON.stringify(run.changes));
  const gaps = probes.slice(1).map((at, i) => at - (probes[i] ?? 0));
  for (let i = 1; i < gaps.length; i += 1) assert.ok((gaps[i] ?? 0) >= Math.min(gaps[i - 1] ?? 0, UP_DWELL_MAX_MS), `gaps grow: ${gaps.join(', ')}`);
  assert.ok((gaps.at(-1) ?? 0) >= UP_DWELL_MAX_MS, `the long-run retry interval: ${gaps.join(', ')}`);
  assert.ok(probes.length <= 1800_000 / UP_DWELL_MAX_MS + 5, `${probes.length} probes in 30 minutes`);
  assert.equal(autoLevel(run.state) === 'balanced' || autoLevel(run.state) === 'sharp', true);
});

test('a rung that held is retried quickly again; a link that got better climbs back up', () => {
  const run = feed(start(), 30, () => DOWN_DELAY_MS * 2);
  assert.equal(autoLevel(run.state), 'smallest');
  feed(run, 60, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(run.state), 'sharp', 'three rungs up within a minute of room');
  const ups = run.changes.filter((c) => c.atMs > 30 * SAMPLE_EVERY_MS).map((c) => c.atMs);
  assert.equal(ups.length, 3);
  for (let i = 1; i < ups.length; i += 1) assert.ok((ups[i] ?? 0) - (ups[i - 1] ?? 0) < 2 * UP_DWELL_MS, 'held rungs do not slow the climb');
});

test('a step up that holds through PROBE_WINDOW_MS ends the probing: the next failure starts from the short dwell again', () => {
  let sharpFits = false;
  const run = feed(start(), 600, (level) => (level === 'sharp' && !sharpFits ? DOWN_DELAY_MS * 2 : UP_DELAY_MS / 2));
  assert.ok(run.state.upDwellMs > UP_DWELL_MS, 'failed tries of Sharp lengthened the wait');
  sharpFits = true;
  feed(run, (UP_DWELL_MAX_MS + PROBE_WINDOW_MS) / SAMPLE_EVERY_MS + 2, () => UP_DELAY_MS / 2);
  assert.equal(autoLevel(run.state), 'sharp');
  assert.deepEqual([run.state.probing, run.state.upDwellMs], [false, UP_DWELL_MS]);
});

test('reset on reconnect: a new connection starts at Balanced with the short dwell, whatever the last one learned', () => {
  const run = feed(start(), 600, (level) => (level === 'sharp' ? DOWN_DELAY_MS * 2 : level === 'balanced' ? DOWN_DELAY_MS * 2 : UP_DELAY_MS / 2));
  assert.equal(autoLevel(run.state), 'fast');
  const fresh = initialAutoState(run.now);
  assert.equal(autoLevel(fresh), AUTO_START);
  assert.equal(fresh.upDwellMs, UP_DWELL_MS);
  assert.notEqual(run.state.upDwellMs, UP_DWELL_MS, 'the old connection had backed off');
});
