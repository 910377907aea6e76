import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualityControl } from '../../client/src/screen/quality-control.js';
import { QUALITY_STORAGE_KEY } from '../../client/src/screen/quality.js';
import { DOWN_AFTER_SAMPLES, DOWN_DELAY_MS, START_GRACE_MS } from '../../client/src/screen/auto-quality.js';

/** The parts of a <select> the control uses, with the page's five options. */
function fakeSelect(): HTMLSelectElement & { change(value: string): void; attributes: Map<string, string> } {
  const listeners: (() => void)[] = [];
  const attributes = new Map<string, string>();
  const select = {
    value: '',
    title: '',
    options: ['auto', 'sharp', 'balanced', 'fast', 'smallest'].map((value) => ({ value, textContent: `Quality: ${value}` })),
    attributes,
    addEventListener: (_type: string, listener: () => void) => listeners.push(listener),
    setAttribute: (name: string, value: string) => attributes.set(name, value),
    change(value: string) {
      select.value = value;
      for (const listener of listeners) listener();
    },
  };
  return select as unknown as HTMLSelectElement & { change(value: string): void; attributes: Map<string, string> };
}

function fakeStorage(initial: Record<string, string> = {}): { getItem(k: string): string | null; setItem(k: string, v: string): void; store: Map<string, string> } {
  const store = new Map(Object.entries(initial));
  return {
    store,
    getItem: (k) => store.get(k) ?? null,
    setItem: (k, v) => {
      store.set(k, v);
    },
  };
}

/** The two properties of noVNC's RFB the control sets. */
interface FakeViewer {
  qualityLevel: number;
  compressionLevel: number;
}

function fakeRfb(): FakeViewer {
  return { qualityLevel: -1, compressionLevel: -1 };
}

/** noVNC's types are declared for the client build only: the fake stands in as any viewer. */
function asViewer(viewer: FakeViewer): never {
  return viewer as never;
}

function autoText(select: HTMLSelectElement): string | null {
  return Array.from(select.options).find((o) => o.value === 'auto')?.textContent ?? null;
}

test('a new user gets Auto at Balanced; a stored preset stays and reaches the viewer', () => {
  const select = fakeSelect();
  const rfb = fakeRfb();
  const control = new QualityControl({ select, storage: fakeStorage(), viewer: () => asViewer(rfb), now: () => 0 });
  assert.equal(select.value, 'auto');
  control.attach(asViewer(rfb), true);
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [6, 2]);
  assert.equal(autoText(select), 'Quality: Auto (Balanced)');
  assert.equal(select.attributes.get('data-auto-level'), 'balanced');

  const other = fakeSelect();
  const stored = new QualityControl({ select: other, storage: fakeStorage({ [QUALITY_STORAGE_KEY]: 'fast' }), viewer: () => asViewer(rfb), now: () => 0 });
  assert.equal(other.value, 'fast');
  stored.attach(asViewer(rfb), true);
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [3, 6]);
});

test('Auto’s steps reach the viewer and the select; a fixed preset holds; a reconnect starts Auto afresh', () => {
  const select = fakeSelect();
  const storage = fakeStorage();
  const rfb = fakeRfb();
  const control = new QualityControl({ select, storage, viewer: () => asViewer(rfb), now: () => 0 });
  control.attach(asViewer(rfb), true);
  let now = START_GRACE_MS;
  const slow = (): void => {
    for (let i = 0; i < DOWN_AFTER_SAMPLES + 1; i += 1) control.sample({ atMs: (now += 1000), updates: 2, p75UpdateMs: DOWN_DELAY_MS * 2 });
  };
  slow();
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [3, 6], 'Fast');
  assert.equal(autoText(select), 'Quality: Auto (Fast)');
  assert.equal(select.attributes.get('data-auto-level'), 'fast');

  select.change('sharp');
  assert.equal(storage.store.get(QUALITY_STORAGE_KEY), 'sharp');
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [9, 1]);
  slow();
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [9, 1], 'a fixed preset is not Auto’s to change');
  assert.equal(autoText(select), 'Quality: Auto (Fast)', 'nor do its samples teach Auto: they were measured at Sharp');

  select.change('auto');
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [9, 1], 'Auto takes over from the level in use');
  assert.equal(autoText(select), 'Quality: Auto (Sharp)');
  const next = fakeRfb();
  control.attach(asViewer(next), true);
  assert.deepEqual([next.qualityLevel, next.compressionLevel], [6, 2], 'a new connection starts at Balanced');
  assert.equal(autoText(select), 'Quality: Auto (Balanced)');
});

test('where noVNC’s updates cannot be timed, Auto says it stays at Balanced', () => {
  const select = fakeSelect();
  const rfb = fakeRfb();
  const control = new QualityControl({ select, storage: null, viewer: () => asViewer(rfb), now: () => 0 });
  assert.doesNotMatch(select.title, /cannot be timed/);
  control.attach(asViewer(rfb), false);
  assert.match(select.title, /cannot be timed, so Auto stays at Balanced/);
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [6, 2]);
  select.change('nonsense');
  assert.deepEqual([rfb.qualityLevel, rfb.compressionLevel], [6, 2], 'a foreign value changes nothing');
});
