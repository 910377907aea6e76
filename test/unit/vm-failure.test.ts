import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeVmFailure } from '../../server/src/protocols/ssh/vm-failure.js';
import { CLOSE_REASON_MAX_BYTES } from '../../server/src/protocols/frames.js';
import type { SshOpenFailure } from '../../server/src/protocols/ssh/upstream.js';

const FAILURES: readonly SshOpenFailure[] = [
  { kind: 'unreachable', detail: 'ECONNREFUSED' },
  { kind: 'aborted', detail: 'cancelled' },
  { kind: 'timeout', detail: 'handshake' },
  { kind: 'auth_failed', detail: 'refused' },
  { kind: 'host_key_rejected', presented: 'SHA256:x' },
  { kind: 'shell_refused', detail: 'no pty' },
];

test('only what retrying can fix is vm_unreachable; the rest have codes of their own', () => {
  assert.deepEqual(
    FAILURES.map((f) => [f.kind, describeVmFailure(f).code]),
    [
      ['unreachable', 'vm_unreachable'],
      ['aborted', 'vm_unreachable'],
      ['timeout', 'vm_unreachable'],
      ['auth_failed', 'vm_login_refused'],
      ['host_key_rejected', 'vm_host_key_changed'],
      ['shell_refused', 'vm_shell_refused'],
    ],
  );
});

test('every message is one sentence or two that fit a close reason whole, and never carries the VM detail', () => {
  for (const failure of FAILURES) {
    const { message } = describeVmFailure(failure);
    assert.ok(Buffer.byteLength(message) <= CLOSE_REASON_MAX_BYTES, `${message} is cut in the close reason`);
    assert.match(message, /^The build VM/);
    assert.equal(/ECONNREFUSED|SHA256|no pty/.test(message), false, 'the detail is for the log, not the page');
  }
  assert.match(describeVmFailure({ kind: 'host_key_rejected', presented: 'SHA256:x' }).message, /Rebuild/, 'says what to do next');
});
