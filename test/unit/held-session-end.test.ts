/** What becomes of a terminal page's held shell when its connection is over (client/src/terminal/held-session-end.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_GONE_TEXT, heldSessionEnd } from '../../client/src/terminal/held-session-end.js';
import type { Disconnect } from '../../client/src/session/state.js';

function closed(code: number, final = false): Disconnect {
  return { kind: 'closed', code, reason: '', final, opened: true, resumable: false, serverError: null, serverErrorCode: null };
}

function refused(status: number, code: string, final: boolean): Disconnect {
  return { kind: 'refused', status, code, message: 'gateway words', final };
}

const GONE = refused(404, 'session_not_found', false);

test('held session: gone after a reload, a new shell starts without a word', () => {
  assert.deepEqual(heldSessionEnd(GONE, 'gone', true), { kind: 'start-new' });
});

test('held session: gone while this page was away, the page says so and Reconnect starts a new shell', () => {
  assert.deepEqual(heldSessionEnd(GONE, 'gone', false), { kind: 'report', why: { ...GONE, message: SESSION_GONE_TEXT, final: false }, keep: false });
});

test('held session: taken by another tab, kept so that Reconnect takes it back', () => {
  const why = closed(4007);
  assert.deepEqual(heldSessionEnd(why, 'final', false), { kind: 'report', why, keep: true });
});

test('held session: a refusal that may pass keeps it; a final one does not', () => {
  const full = refused(429, 'too_many_connections', false);
  assert.deepEqual(heldSessionEnd(full, 'final', false), { kind: 'report', why: full, keep: true });
  const closedWindow = refused(410, 'window_closed', true);
  assert.deepEqual(heldSessionEnd(closedWindow, 'final', false), { kind: 'report', why: closedWindow, keep: false });
});

test('held session: every other end forgets it, as does a hold that ran out', () => {
  for (const code of [1000, 1008, 1011, 4000, 4001, 4002, 4004, 4005, 4006]) {
    const why = closed(code, [4000, 4001].includes(code));
    assert.deepEqual(heldSessionEnd(why, 'final', false), { kind: 'report', why, keep: false }, String(code));
  }
  const lost = { ...closed(1006), resumable: true };
  assert.deepEqual(heldSessionEnd(lost, 'expired', false), { kind: 'report', why: lost, keep: false });
  const offline = refused(0, 'network', false);
  assert.deepEqual(heldSessionEnd(offline, 'expired', true), { kind: 'report', why: offline, keep: false });
  assert.deepEqual(heldSessionEnd(offline, 'transient', false), { kind: 'report', why: offline, keep: false });
});
