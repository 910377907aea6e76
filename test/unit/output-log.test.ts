import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputLog } from '../../server/src/protocols/ssh/output-log.js';

const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('latin1');

test('offsets count every byte since the session began; reading from an offset gives the rest', () => {
  const log = new OutputLog(1024);
  log.append(Buffer.from('hello '));
  log.append(Buffer.from(''));
  log.append(Buffer.from('world\n'));
  assert.deepEqual([log.start, log.end, log.heldBytes], [0, 12, 12]);
  assert.equal(text(log.readFrom(0)), 'hello world\n');
  assert.equal(text(log.readFrom(3)), 'lo world\n');
  assert.equal(text(log.readFrom(6)), 'world\n');
  assert.equal(text(log.readFrom(12)), '');
});

test('trimming keeps what is unacknowledged and at least the last minBytes, dropping whole chunks only', () => {
  const log = new OutputLog(4);
  for (const part of ['aaaa', 'bbbb', 'cccc', 'dddd']) log.append(Buffer.from(part));
  log.trim(0);
  assert.equal(log.start, 0, 'nothing acknowledged: all kept');
  log.trim(9);
  assert.equal(log.start, 8, 'chunks wholly before the ack go; the one holding byte 9 stays');
  log.trim(16);
  assert.equal(log.start, 12, 'the last minBytes stay even when all is acknowledged');
  assert.equal(text(log.readFrom(0)), 'dddd', 'reading before the start gives what is held');
});

test('memory stays bounded under a long stream that is acknowledged as it goes', () => {
  const log = new OutputLog(64 * 1024);
  const chunk = Buffer.alloc(4096, 0x79);
  for (let i = 0; i < 10_000; i += 1) {
    log.append(chunk);
    log.trim(log.end);
  }
  assert.ok(log.heldBytes <= 64 * 1024 + chunk.length, `${log.heldBytes}`);
  assert.equal(log.end, 10_000 * 4096);
});

test('a resume gets the page its own offset when held, else the first line start held', () => {
  const log = new OutputLog(8);
  for (const part of ['line1\nli', 'ne2\nline', '3\n']) log.append(Buffer.from(part));
  assert.equal(log.resumeOffset(5), 5);
  assert.equal(log.resumeOffset(18), 18);
  assert.equal(log.resumeOffset(99), 18, 'a page claiming more than was sent gets the end');
  log.trim(18);
  assert.equal(log.start, 8);
  assert.equal(log.resumeOffset(2), 12, 'lost bytes: from just after the first newline held');
  assert.equal(text(log.readFrom(log.resumeOffset(2))), 'line3\n');
});

test('without a newline held, a resume starts at the oldest byte', () => {
  const log = new OutputLog(2);
  log.append(Buffer.from('abc'));
  log.append(Buffer.from('def'));
  log.trim(6);
  assert.equal(log.resumeOffset(0), 3);
});

test('read: up to a size from an offset, a view within one chunk and a copy across chunks', () => {
  const log = new OutputLog(1_000);
  const first = Buffer.from('hello ');
  log.append(first);
  log.append(Buffer.from('world'));
  const within = log.read(1, 3);
  assert.equal(within.toString(), 'ell');
  assert.equal(within.buffer, first.buffer, 'a view, not a copy');
  assert.equal(log.read(4, 100).toString(), 'o world');
  assert.equal(log.read(11, 100).length, 0);
  assert.equal(log.read(-5, 2).toString(), 'he', 'clamped to what is held');
});
