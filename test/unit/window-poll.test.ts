/** How pages follow a build's window (client/src/lib/window-poll.ts): the pure choices. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WINDOW_POLL_INTERVAL_MS,
  WINDOW_SAFETY_POLL_INTERVAL_MS,
  parseWindowEvent,
  pollDelayMs,
  sessionWindowSource,
  streamUrlOf,
  type WindowSource,
} from '../../client/src/lib/window-poll.js';

test('polling slows to a safety net while the stream is up, and is brisk without it', () => {
  assert.equal(pollDelayMs(true), WINDOW_SAFETY_POLL_INTERVAL_MS);
  assert.equal(pollDelayMs(false), WINDOW_POLL_INTERVAL_MS);
  assert.ok(WINDOW_SAFETY_POLL_INTERVAL_MS > WINDOW_POLL_INTERVAL_MS);
});

test('the session source offers its events URL; without EventSource, or for an embed source, there is no stream', () => {
  const session = sessionWindowSource('b/1');
  assert.equal(session.eventsUrl, '/api/v1/builds/b%2F1/window/events');
  assert.equal(streamUrlOf(session, true), '/api/v1/builds/b%2F1/window/events');
  assert.equal(streamUrlOf(session, false), null);
  const embed: WindowSource = () => Promise.resolve({});
  assert.equal(streamUrlOf(embed, true), null);
});

test('an event is checked like a polled answer: garbage is ignored, not trusted', () => {
  const view = { closesAt: '2030-01-01T10:00:00.000Z', remainingMs: 5000, open: true, extendStepMinutes: 30, canExtend: true };
  assert.deepEqual(parseWindowEvent(JSON.stringify(view)), view);
  assert.equal(parseWindowEvent('<html>proxy error</html>'), null);
  assert.equal(parseWindowEvent(JSON.stringify({ closesAt: 5 })), null);
  assert.equal(parseWindowEvent(undefined), null);
  assert.deepEqual(parseWindowEvent(JSON.stringify({ ...view, remainingMs: -3 })), { ...view, remainingMs: 0 });
});
