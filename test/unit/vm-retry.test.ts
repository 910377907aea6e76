import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideVmRetry, VM_RETRY_DELAY_MS, VM_RETRY_MAX_TRIES } from '../../client/src/session/vm-retry.js';
import type { Disconnect } from '../../client/src/session/state.js';

function closed(code: number, serverErrorCode: string | null, serverError: string | null = null): Disconnect {
  return { kind: 'closed', code, reason: '', final: false, opened: true, resumable: false, serverError, serverErrorCode };
}

test('an unreachable VM is tried again every 10 s, saying so, up to the limit', () => {
  const why = closed(4004, 'vm_unreachable', 'The build VM could not be reached; it may still be starting.');
  assert.deepEqual(decideVmRetry(why, 0), { inMs: VM_RETRY_DELAY_MS, text: 'The build VM could not be reached; it may still be starting — retrying in 10 s.' });
  assert.notEqual(decideVmRetry(why, VM_RETRY_MAX_TRIES - 1), null);
  assert.equal(decideVmRetry(why, VM_RETRY_MAX_TRIES), null, 'then the user decides');
});

test('what retrying cannot fix waits for the user', () => {
  for (const code of ['vm_login_refused', 'vm_host_key_changed', 'vm_shell_refused']) assert.equal(decideVmRetry(closed(4004, code), 0), null, code);
  assert.equal(decideVmRetry(closed(4004, null), 0), null, 'a connection lost after the shell opened carries no error frame');
  assert.equal(decideVmRetry(closed(4005, 'vm_unreachable'), 0), null);
  assert.equal(decideVmRetry({ kind: 'refused', status: 502, code: 'vm_unreachable', message: 'm', final: false }, 0), null);
});
