/** What a window stream repeats (server/src/http/routes/window-events.ts): only what a page would show differently. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameWindow, WINDOW_HEARTBEAT_MS } from '../../server/src/http/routes/window-events.js';

const view = { closesAt: '2030-01-01T10:00:00.000Z', remainingMs: 300_000, open: true, extendStepMinutes: 15, canExtend: true };

test('the clock moving remainingMs is no news; a new close time, a closed window or a changed Extend is', () => {
  assert.equal(sameWindow(view, { ...view, remainingMs: 290_000 }), true);
  assert.equal(sameWindow(view, { ...view, closesAt: '2030-01-01T10:15:00.000Z' }), false);
  assert.equal(sameWindow(view, { ...view, open: false }), false);
  assert.equal(sameWindow(view, { ...view, canExtend: false }), false);
  assert.equal(sameWindow(view, { ...view, extendStepMinutes: null }), false);
});

test('the heartbeat comes well inside the 30 s idle timeout common to proxies', () => {
  assert.ok(WINDOW_HEARTBEAT_MS < 30_000);
});
