/** The asciicast writer's format and memory bound, and the retention sweep. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { AsciicastWriter, BUFFER_LIMIT_BYTES } from '../../server/src/recording/asciicast-writer.js';
import { Recorder, parseRecordingId, recordingFileName } from '../../server/src/recording/recorder.js';
import { sweepRecordings } from '../../server/src/recording/retention.js';
import { SqliteStore } from '../../server/src/store/sqlite/sqlite-store.js';
import type { AppId, BuildId, RecordingId, UserId } from '../../shared/src/ids.js';
import { parseAsciicast } from '../helpers/asciicast.js';
import { pollUntil } from '../helpers/ports.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Writing a few MiB to a local temp file; only a wedged disk takes longer. */
const CATCH_UP_TIMEOUT_MS = 10_000;
const silent = pino({ level: 'silent' });

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'porthole-rec-'));
}

test('asciicast: header, output, resizes and markers, with UTF-8 split across chunks kept whole', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'a.cast');
    let clock = 1000;
    const writer = new AsciicastWriter(path, { cols: 100, rows: 30, startedAt: new Date('2026-01-02T03:04:05.678Z'), title: 'Build b-1' }, () => clock, assert.fail);
    const key = Buffer.from('🔑', 'utf8');
    clock += 250;
    writer.output(Buffer.concat([Buffer.from('hello \x1b[1mworld\x1b[0m '), key.subarray(0, 2)]));
    clock += 250;
    writer.output(Buffer.concat([key.subarray(2), Buffer.from('\r\n')]));
    writer.resize(132, 43);
    writer.output(Buffer.from([0xff, 0x41]));
    const closing = writer.close();
    // The VM's last bytes while its channel closes come after the end: not recorded, and no gap.
    writer.output(Buffer.from('logout\r\n'));
    const totals = await closing;
    const text = readFileSync(path, 'utf8');
    const cast = parseAsciicast(text);
    assert.deepEqual(cast.header, { version: 2, width: 100, height: 30, timestamp: 1767323045, title: 'Build b-1', env: { TERM: 'xterm-256color' } });
    assert.deepEqual(cast.events, [
      [0.25, 'o', 'hello \x1b[1mworld\x1b[0m '],
      [0.5, 'o', '🔑\r\n'],
      [0.5, 'r', '132x43'],
      [0.5, 'o', '\ufffdA'],
    ]);
    assert.deepEqual(totals, { sizeBytes: Buffer.byteLength(text), droppedBytes: 0 });
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asciicast: when the disk falls behind, output is dropped (never queued past the bound) and the gap is marked', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'flood.cast');
    const writer = new AsciicastWriter(path, { cols: 80, rows: 24, startedAt: new Date(), title: 't' }, () => performance.now(), assert.fail);
    const chunk = Buffer.alloc(64 * 1024, 'y');
    // Nothing yields to the event loop here, so the file stream cannot write: the worst disk.
    const floodBytes = 64 * 1024 * 1024;
    for (let sent = 0; sent < floodBytes; sent += chunk.length) writer.output(chunk);
    writer.resize(90, 30);
    assert.ok(writer.bufferedBytes <= BUFFER_LIMIT_BYTES + chunk.length * 2, `queued ${writer.bufferedBytes} bytes`);
    // Only once the stream has written what it holds is there room again.
    await pollUntil('the file stream catching up', CATCH_UP_TIMEOUT_MS, async () => writer.bufferedBytes === 0);
    writer.output(Buffer.from('after the gap'));
    const totals = await writer.close();
    const cast = parseAsciicast(readFileSync(path, 'utf8'));
    const kept = cast.output.length;
    assert.ok(kept <= BUFFER_LIMIT_BYTES + chunk.length, `at most the bound was queued (${kept} bytes kept)`);
    assert.equal(totals.droppedBytes + kept - 'after the gap'.length, floodBytes, 'every byte is either kept or counted as dropped');
    const marker = cast.events.find(([, code]) => code === 'm');
    assert.ok(marker, 'the gap is marked');
    assert.equal(marker[2], `${totals.droppedBytes} bytes of output not recorded (disk too slow)`);
    const last = cast.events.slice(-2);
    assert.deepEqual(last.map(([, code, data]) => [code, data]), [
      ['r', '90x30'],
      ['o', 'after the gap'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recorder: ids are random hex; a session opens its file at the first size and completes its row at the end', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(':memory:');
  try {
    const recorder = new Recorder({ store, dir, recordAll: false, logger: silent, now: () => new Date() });
    assert.equal(recorder.shouldRecord({ id: 'a' as never, name: 'A', recordSessions: false }), false);
    assert.equal(recorder.shouldRecord({ id: 'a' as never, name: 'A', recordSessions: true }), true);
    assert.equal(new Recorder({ store, dir, recordAll: true, logger: silent, now: () => new Date() }).shouldRecord(null), true);
    for (const bad of ['../../etc/passwd', 'ABCDEF0123456789abcdef01', 'abc', '']) assert.equal(parseRecordingId(bad), null, bad);

    const unused = recorder.begin({ buildId: 'b-1' as BuildId, appId: 'a-1' as AppId, userId: 'u-1' as UserId, connectionId: 'c-0' });
    await unused.finish();
    assert.deepEqual(await store.listRecordings('b-1' as BuildId), [], 'a session refused before its shell opened leaves nothing');

    const session = recorder.begin({ buildId: 'b-1' as BuildId, appId: 'a-1' as AppId, userId: 'u-1' as UserId, connectionId: 'c-1' });
    session.resize(80, 24);
    session.output(Buffer.from('$ ls\r\n'));
    const [live] = await store.listRecordings('b-1' as BuildId);
    assert.ok(live && parseRecordingId(live.id) === live.id);
    assert.equal(live.endedAt, null);
    await session.finish();
    await recorder.flush();
    const done = await store.getRecording(live.id);
    assert.ok(done?.endedAt);
    assert.equal(done.sizeBytes, statSync(join(dir, recordingFileName(live.id))).size);
    assert.equal(parseAsciicast(readFileSync(join(dir, recordingFileName(live.id)), 'utf8')).output, '$ ls\r\n');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retention: recordings older than the period lose their row and file; stray old files go too; recent ones stay', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(':memory:');
  try {
    const now = new Date('2026-06-01T00:00:00Z');
    const make = async (id: string, startedAt: Date): Promise<string> => {
      await store.addRecording({ id: id as RecordingId, buildId: 'b' as BuildId, appId: 'a' as AppId, userId: 'u' as UserId, connectionId: id, startedAt });
      const path = join(dir, recordingFileName(id as RecordingId));
      writeFileSync(path, '{"version":2,"width":80,"height":24,"timestamp":0}\n');
      return path;
    };
    const old = await make('a'.repeat(24), new Date(now.getTime() - 31 * DAY_MS));
    const recent = await make('b'.repeat(24), new Date(now.getTime() - 29 * DAY_MS));
    const stray = join(dir, `${'c'.repeat(24)}.cast`);
    writeFileSync(stray, '');
    const longAgo = new Date(now.getTime() - 40 * DAY_MS);
    utimesSync(stray, longAgo, longAgo);
    const other = join(dir, 'notes.txt');
    writeFileSync(other, '');
    utimesSync(other, longAgo, longAgo);

    const deleted = await sweepRecordings({ store, dir, retentionDays: 30, logger: silent, now: () => now });
    assert.equal(deleted, 2);
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(stray), false);
    assert.equal(existsSync(recent), true);
    assert.equal(existsSync(other), true, 'only recordings are touched');
    assert.deepEqual((await store.listRecordings('b' as BuildId)).map((r) => r.id), ['b'.repeat(24)]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
