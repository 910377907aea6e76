import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html, Html } from '../../server/src/http/views/html.js';
import { safeNextPath } from '../../server/src/http/next-path.js';
import { judgeOrigin } from '../../server/src/http/middleware/origin-guard.js';
import { closeTimeAfterFinish, narrowCloseTime } from '../../server/src/access/access-window.js';
import { nativeSshCommand, screenshareAddress, shellQuote } from '../../server/src/domain/native-instructions.js';
import { formatRemaining } from '../../shared/src/format.js';
import { isValidId, parseId } from '../../shared/src/ids.js';

test('html: interpolations are escaped unless already Html', () => {
  const hostile = `<img src=x onerror="alert(1)">'&`;
  assert.equal(html`<p title="${hostile}">${hostile}</p>`.value, '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;</p>');
  assert.equal(html`<div>${new Html('<b>ok</b>')}${[html`<i>${'<'}</i>`, 1]}${null}${false}</div>`.value, '<div><b>ok</b><i>&lt;</i>1</div>');
});

test('next path: only same-site paths survive', () => {
  assert.equal(safeNextPath('/builds/b1?x=1'), '/builds/b1?x=1');
  for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '/a\nb', undefined, 42]) {
    assert.equal(safeNextPath(bad), '/');
  }
});

test('origin judgement: Origin wins, Sec-Fetch-Site is the fallback, neither is unknown', () => {
  const own = 'http://127.0.0.1:8080';
  assert.equal(judgeOrigin({ origin: own }, own), 'same_origin');
  assert.equal(judgeOrigin({ origin: 'http://127.0.0.1:8081' }, own), 'cross_origin');
  assert.equal(judgeOrigin({ origin: 'null' }, own), 'cross_origin');
  assert.equal(judgeOrigin({ origin: 'http://evil.example', 'sec-fetch-site': 'same-origin' }, own), 'cross_origin');
  assert.equal(judgeOrigin({ 'sec-fetch-site': 'same-origin' }, own), 'same_origin');
  assert.equal(judgeOrigin({ 'sec-fetch-site': 'same-site' }, own), 'cross_origin');
  assert.equal(judgeOrigin({}, own), 'unknown');
});

test('access window: a close time only ever moves earlier', () => {
  const finished = new Date('2026-11-27T10:00:00Z');
  const closes = closeTimeAfterFinish(finished, 10);
  assert.equal(closes.toISOString(), '2026-11-27T10:10:00.000Z');
  assert.equal(narrowCloseTime(null, closes), closes);
  assert.equal(narrowCloseTime(closes, new Date('2026-11-27T11:00:00Z')), closes);
  const earlier = new Date('2026-11-27T10:05:00Z');
  assert.equal(narrowCloseTime(closes, earlier), earlier);
});

test('native instructions: plain ssh first, quoted; a pinned one-liner when a fingerprint is known', () => {
  assert.equal(shellQuote('vagrant@1.tcp.ngrok.io'), 'vagrant@1.tcp.ngrok.io');
  assert.equal(shellQuote("it's; rm -rf /"), `'it'\\''s; rm -rf /'`);
  const plain = nativeSshCommand({ host: '1.tcp.ngrok.io', port: 21022, username: 'vagrant', hostKey: null });
  assert.equal(plain.command, 'ssh -p 21022 vagrant@1.tcp.ngrok.io');
  assert.equal(plain.pinnedCommand, null);
  const pinned = nativeSshCommand({ host: '::1', port: 2222, username: 'vagrant', hostKey: 'SHA256:abc' });
  assert.equal(pinned.command, 'ssh -p 2222 vagrant@::1', 'the plain command leads even when a fingerprint is known');
  assert.match(pinned.pinnedCommand ?? '', /StrictHostKeyChecking=yes/);
  assert.match(pinned.pinnedCommand ?? '', /grep -qF ' SHA256:abc '/);
  assert.match(pinned.pinnedCommand ?? '', /ssh-keyscan -p 2222 ::1 .* vagrant@::1$/);
  assert.equal(screenshareAddress({ host: '::1', port: 5900 }), 'vnc://[::1]:5900');
});

test('formatRemaining: minutes and seconds, hours when long, never negative', () => {
  assert.equal(formatRemaining(600_000), '10:00');
  assert.equal(formatRemaining(59_001), '1:00');
  assert.equal(formatRemaining(1), '0:01');
  assert.equal(formatRemaining(-5), '0:00');
  assert.equal(formatRemaining(3_723_000), '1:02:03');
});

test('ids: the orchestrator id alphabet', () => {
  assert.ok(isValidId('build-1.2_3'));
  assert.ok(isValidId('a'.repeat(64)));
  for (const bad of ['', 'a'.repeat(65), 'a/b', 'a b', '..%2f', 'é']) assert.equal(isValidId(bad), false, bad);
});

test('ids: only dots is a dot-segment, not an id; dots among other characters are fine', () => {
  for (const bad of ['.', '..', '...', '.'.repeat(64)]) {
    assert.equal(isValidId(bad), false, bad);
    const parsed = parseId(bad);
    assert.ok(!parsed.ok && parsed.error.includes('not only dots'), bad);
  }
  for (const good of ['.a', 'a.', '..a..', '-.', '._', 'v1.2.3']) assert.equal(isValidId(good), true, good);
});
