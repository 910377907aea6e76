import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeClientControl, parseClientControl, parseServerControl } from '../../shared/src/protocol/ssh-v1.js';
import { decideFlow, type FlowLimits } from '../../server/src/flow/backpressure.js';
import { decideHostKey, fingerprintOf, sameFingerprint } from '../../server/src/protocols/ssh/host-key.js';
import { heldFlowLimits } from '../../server/src/protocols/ssh/bridge.js';
import { SSH_MAX_PACKET_BYTES, SSH_SHELL_WINDOW_MAX_BYTES } from '../../server/src/protocols/ssh/upstream.js';
import { AckCounter } from '../../client/src/terminal/flow-control.js';
import { TERMINAL_ACK_BATCH_BYTES, TERMINAL_ACK_MIN_BYTES, TERMINAL_UNACKED_HIGH_BYTES, TERMINAL_UNACKED_LOW_BYTES } from '../../shared/src/limits.js';

test('control messages: valid ones parse, sizes are clamped', () => {
  assert.deepEqual(parseClientControl('{"type":"resize","cols":120,"rows":40}'), { ok: true, value: { type: 'resize', cols: 120, rows: 40 } });
  assert.deepEqual(parseClientControl('{"type":"resize","cols":1000000,"rows":0}'), { ok: true, value: { type: 'resize', cols: 1000, rows: 1 } });
  assert.deepEqual(parseClientControl('{"type":"resize","cols":-5,"rows":9999}'), { ok: true, value: { type: 'resize', cols: 1, rows: 500 } });
  assert.deepEqual(parseClientControl('{"type":"ack","bytes":65536}'), { ok: true, value: { type: 'ack', bytes: 65536 } });
});

test('control messages: hostile input is an error value, never a throw', () => {
  const cases: [string, string][] = [
    ['not json', 'not_json'],
    ['', 'not_json'],
    ['null', 'not_object'],
    ['[1,2]', 'not_object'],
    ['"resize"', 'not_object'],
    ['{"type":"boom"}', 'unknown_type'],
    ['{"type":"__proto__"}', 'unknown_type'],
    ['{"__proto__":{"type":"ack","bytes":1}}', 'unknown_type'],
    ['{"type":"resize","cols":"80","rows":24}', 'bad_field'],
    ['{"type":"resize","cols":80.5,"rows":24}', 'bad_field'],
    ['{"type":"resize","cols":1e400,"rows":24}', 'bad_field'],
    ['{"type":"resize","cols":null,"rows":24}', 'bad_field'],
    ['{"type":"ack","bytes":-1}', 'bad_field'],
    ['{"type":"ack","bytes":1e300}', 'bad_field'],
    ['{"type":"ack"}', 'bad_field'],
    ['['.repeat(100_000), 'too_long'],
    [`{"type":"ack","bytes":1,"pad":"${'x'.repeat(2000)}"}`, 'too_long'],
  ];
  for (const [text, error] of cases) assert.deepEqual(parseClientControl(text), { ok: false, error }, text.slice(0, 40));
});

const LIMITS: FlowLimits = { unackedHighBytes: 100, unackedLowBytes: 20, bufferedHighBytes: 1000, bufferedLowBytes: 200 };

test('flow: pause above either high mark, resume only below both low marks', () => {
  const table: [number, number, boolean, string][] = [
    [0, 0, false, 'none'],
    [100, 0, false, 'none'],
    [101, 0, false, 'pause'],
    [0, 1001, false, 'pause'],
    [101, 1001, false, 'pause'],
    [50, 0, true, 'none'],
    [20, 0, true, 'resume'],
    [20, 201, true, 'none'],
    [0, 200, true, 'resume'],
    [101, 0, true, 'none'],
  ];
  for (const [unackedBytes, bufferedBytes, paused, expected] of table) {
    assert.equal(decideFlow({ unackedBytes, bufferedBytes, paused }, LIMITS), expected, `${unackedBytes}/${bufferedBytes}/${paused}`);
  }
});

test('flow: typing never pauses — keystroke echoes stay far below the marks', () => {
  let unacked = 0;
  let paused = false;
  for (let key = 0; key < 10_000; key++) {
    unacked += 1; // the echo
    const action = decideFlow({ unackedBytes: unacked, bufferedBytes: 0, paused }, { unackedHighBytes: TERMINAL_UNACKED_HIGH_BYTES, unackedLowBytes: TERMINAL_UNACKED_LOW_BYTES, bufferedHighBytes: 1 << 20, bufferedLowBytes: 1 << 18 });
    assert.equal(action, 'none');
    unacked = 0; // the browser acknowledges each echo once drawn
    paused = false;
  }
});

test('flow: a held session reads until its log and what its paused channel may still take in fill the buffer, never past it', () => {
  const KiB = 1024;
  // The smallest, the default, a larger and the largest PORTHOLE_RESUME_BUFFER_BYTES, each with the window the bridge opens.
  for (const bufferBytes of [64 * KiB, 256 * KiB, 1024 * KiB, 16 * 1024 * KiB]) {
    const windowBytes = Math.min(SSH_SHELL_WINDOW_MAX_BYTES, bufferBytes);
    const limits = heldFlowLimits(bufferBytes, windowBytes);
    for (const chunk of [1, 4096, SSH_MAX_PACKET_BYTES]) {
      let unacked = 0;
      while (decideFlow({ unackedBytes: unacked, bufferedBytes: 0, paused: false }, limits) === 'none') unacked += chunk;
      const label = `buffer ${bufferBytes}, window ${windowBytes}, chunks of ${chunk}: paused at ${unacked}`;
      assert.ok(unacked + windowBytes <= bufferBytes, label);
      assert.ok(unacked + windowBytes + SSH_MAX_PACKET_BYTES > bufferBytes, `${label}: stopped early`);
    }
    assert.equal(decideFlow({ unackedBytes: 0, bufferedBytes: 0, paused: true }, limits), 'none', 'nothing but a page restarts a held session');
  }
});

test('acks: batched during a burst, flushed when caught up, never more than received', () => {
  const acks = new AckCounter(100, 1);
  for (let i = 0; i < 5; i++) acks.received();
  assert.equal(acks.parsed(30), 0);
  assert.equal(acks.parsed(30), 0);
  assert.equal(acks.parsed(50), 110);
  assert.equal(acks.parsed(10), 0);
  assert.equal(acks.parsed(10), 20, 'caught up: the tail is acknowledged');
});

test('acks: small caught-up tails (keystroke echoes) wait until they add up', () => {
  const acks = new AckCounter(100, 10);
  for (let i = 0; i < 9; i++) {
    acks.received();
    assert.equal(acks.parsed(1), 0, `echo ${i + 1} is not acknowledged on its own`);
  }
  acks.received();
  assert.equal(acks.parsed(1), 10, 'acknowledged once the minimum is pending');
  acks.received();
  acks.received();
  assert.equal(acks.parsed(60), 0, 'not caught up, below the batch');
  assert.equal(acks.parsed(60), 120, 'the batch size acks whether caught up or not');
});

test('acks: what a browser leaves unacknowledged can never keep the gateway paused', () => {
  assert.ok(TERMINAL_ACK_MIN_BYTES <= TERMINAL_ACK_BATCH_BYTES);
  // The largest unacknowledged remainder is just under the batch size; resuming needs ≤ the low mark.
  assert.ok(TERMINAL_ACK_BATCH_BYTES < TERMINAL_UNACKED_LOW_BYTES);
  // A paused gateway with only such a remainder outstanding resumes.
  const limits: FlowLimits = { unackedHighBytes: TERMINAL_UNACKED_HIGH_BYTES, unackedLowBytes: TERMINAL_UNACKED_LOW_BYTES, bufferedHighBytes: 1 << 20, bufferedLowBytes: 1 << 18 };
  assert.equal(decideFlow({ unackedBytes: TERMINAL_ACK_BATCH_BYTES - 1, bufferedBytes: 0, paused: true }, limits), 'resume');
});

test('host keys: fingerprints as OpenSSH prints them; registered, pinned or rejected', () => {
  // Equality with ssh-keygen's own output is checked against the real sshd in integration tests.
  assert.match(fingerprintOf(Buffer.from('key')), /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.ok(sameFingerprint('SHA256:abc=', 'SHA256:abc'));
  assert.deepEqual(decideHostKey(null, 'SHA256:x'), { kind: 'pin' });
  assert.deepEqual(decideHostKey('SHA256:x', 'SHA256:x'), { kind: 'accept' });
  assert.deepEqual(decideHostKey('SHA256:x', 'SHA256:y'), { kind: 'reject', expected: 'SHA256:x' });
});

test('server control messages: the page reads what the gateway sends and ignores anything else', () => {
  assert.deepEqual(parseServerControl('{"type":"ready","hostKey":"SHA256:x","sessionId":"0123456789abcdef","resumeSeconds":300,"mode":"watch","recorded":true}'), {
    type: 'ready',
    hostKey: 'SHA256:x',
    sessionId: '0123456789abcdef',
    resumeSeconds: 300,
    mode: 'watch',
    recorded: true,
  });
  assert.equal((parseServerControl('{"type":"ready","hostKey":"k","sessionId":"s","resumeSeconds":0,"recorded":"yes"}') as { recorded?: unknown } | null)?.recorded, false, 'only true means recorded');
  assert.deepEqual(parseServerControl('{"type":"resumed","offset":42}'), { type: 'resumed', offset: 42, recorded: false });
  assert.deepEqual(parseServerControl('{"type":"window","closesAt":null,"remainingMs":-5}'), { type: 'window', closesAt: null, remainingMs: 0 });
  assert.deepEqual(parseServerControl('{"type":"error","code":"vm_unreachable","message":"m"}'), { type: 'error', code: 'vm_unreachable', message: 'm' });
  assert.deepEqual(parseServerControl('{"type":"notice","code":"early_input_dropped","message":"m"}'), { type: 'notice', code: 'early_input_dropped', message: 'm' });
  for (const noise of ['', 'not json', '[]', 'null', '{"type":"ready","hostKey":5}', '{"type":"ready","hostKey":"SHA256:x"}', '{"type":"ready","hostKey":"k","sessionId":"s","resumeSeconds":-1}', '{"type":"resumed","offset":"7"}', '{"type":"future"}', `{"type":"ready","hostKey":"${'x'.repeat(20_000)}"}`]) {
    assert.equal(parseServerControl(noise), null, noise.slice(0, 40));
  }
  assert.deepEqual(parseClientControl(encodeClientControl({ type: 'ack', bytes: 7 })), { ok: true, value: { type: 'ack', bytes: 7 } });
  assert.deepEqual(parseClientControl(encodeClientControl({ type: 'resume', offset: 9 })), { ok: true, value: { type: 'resume', offset: 9 } });
  assert.deepEqual(parseClientControl('{"type":"resume","offset":-1}'), { ok: false, error: 'bad_field' });
});
