/** What a connection's end means for the session behind it (client/src/session/end-verdict.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyEnd } from '../../client/src/session/end-verdict.js';
import type { Disconnect } from '../../client/src/session/state.js';
import { CloseCode, FINAL_CLOSE_CODES, RESUMABLE_CLOSE_CODES, describeClose } from '../../shared/src/protocol/close-codes.js';

function closed(code: number, resumable: boolean): Disconnect {
  return { kind: 'closed', code, reason: '', final: false, opened: true, resumable, serverError: null, serverErrorCode: null };
}

function refused(status: number, code: string): Disconnect {
  return { kind: 'refused', status, code, message: 'm', final: false };
}

test('end verdict: a resumable close is worth another try; any other close is final', () => {
  assert.equal(classifyEnd(closed(1006, true)), 'transient');
  assert.equal(classifyEnd(closed(1001, true)), 'transient');
  // The page gave up on the stream itself: the same code, but another try would end the same way.
  assert.equal(classifyEnd(closed(1005, false)), 'final');
  for (const code of [1000, 1008, 1011, 4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008]) assert.equal(classifyEnd(closed(code, false)), 'final', String(code));
});

test("a watcher removed by the session's owner (4008) is not offered a reconnect, and is told why", () => {
  assert.equal(RESUMABLE_CLOSE_CODES.has(CloseCode.removedByOwner), false);
  assert.equal(FINAL_CLOSE_CODES.has(CloseCode.removedByOwner), true);
  assert.equal(describeClose(CloseCode.removedByOwner, "removed by the session's owner"), "The session's owner stopped you watching it.");
});

test('end verdict: a ticket request that never reached the gateway, or a 5xx, is worth another try', () => {
  assert.equal(classifyEnd(refused(0, 'network')), 'transient');
  assert.equal(classifyEnd(refused(503, 'draining')), 'transient');
  assert.equal(classifyEnd(refused(500, 'internal')), 'transient');
  assert.equal(classifyEnd(refused(502, 'http_error')), 'transient');
});

test('end verdict: session_not_found means the session is gone', () => {
  assert.equal(classifyEnd(refused(404, 'session_not_found')), 'gone');
});

test('end verdict: every other refusal is final, as before', () => {
  for (const [status, code] of [
    [404, 'not_found'],
    [403, 'role_forbidden'],
    [410, 'window_closed'],
    [429, 'too_many_connections'],
    [429, 'rate_limited'],
    [401, 'unauthenticated'],
    [0, 'unsupported_protocol'],
    [0, 'bad_url'],
    [200, 'bad_response'],
  ] as const) {
    assert.equal(classifyEnd(refused(status, code)), 'final', `${status} ${code}`);
  }
});
