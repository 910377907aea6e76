/** The pure pieces of file transfer (issue #17): names, ranges, paths, the mode, listing entries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import express from 'express';
import { bodyDeadline } from '../../server/src/http/middleware/body-deadline.js';
import { attachmentDisposition, baseNameOf, safeFileName, FALLBACK_FILE_NAME } from '../../server/src/files/content-disposition.js';
import { decideRange } from '../../server/src/files/byte-range.js';
import { MAX_VM_PATH_CHARS, parsePathParam, splitUploadPath, joinVmPath } from '../../server/src/files/vm-path.js';
import { decideFileOperation } from '../../server/src/files/transfer-mode.js';
import { decodeCursor, encodeCursor, entryOf, entryTypeOf } from '../../server/src/files/listing.js';
import { archiveCommand } from '../../server/src/files/archive.js';
import { fileErrorOf } from '../../server/src/files/sftp-errors.js';
import { isCrossSiteRequest } from '../../server/src/http/middleware/origin-guard.js';

/** What a header value may hold: visible ASCII and spaces, nothing that ends or splits the header. */
const HEADER_SAFE = /^[\x20-\x7e]*$/;

test('content disposition: hostile names give one safe header line with the real name in filename*', () => {
  const cases: readonly [string, string, string][] = [
    ['report.txt', 'report.txt', 'report.txt'],
    ['a"b.txt', 'a_b.txt', 'a%22b.txt'],
    ['line\nbreak\r.log', 'line_break_.log', 'line_break_.log'],
    ['<b>bold</b>.html', '<b>bold<_b>.html', '%3Cb%3Ebold%3C_b%3E.html'],
    ['bell\u0007\u0000\u009b.bin', 'bell___.bin', 'bell___.bin'],
    ['ünïcødé 日本.txt', '_n_c_d_ __.txt', '%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E6%97%A5%E6%9C%AC.txt'],
    ["it's (1)*.txt", "it's (1)*.txt", 'it%27s%20%281%29%2A.txt'],
    ['100%;x=y.txt', '100_;x=y.txt', '100%25%3Bx%3Dy.txt'],
    ['bad\uFFFDutf8', 'bad_utf8', 'bad%EF%BF%BDutf8'],
    ['\uD800lone', '_lone', '%EF%BF%BDlone'],
  ];
  for (const [name, ascii, encoded] of cases) {
    const header = attachmentDisposition(name);
    assert.match(header, HEADER_SAFE, `${JSON.stringify(name)} → ${JSON.stringify(header)}`);
    assert.equal(header, `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`, JSON.stringify(name));
    assert.equal((header.match(/"/g) ?? []).length, 2, 'exactly the two quotes of the filename parameter');
  }
});

test('content disposition: dot files, separators and empty names', () => {
  assert.equal(safeFileName('.bashrc'), 'bashrc');
  assert.equal(safeFileName('...'), FALLBACK_FILE_NAME);
  assert.equal(safeFileName(''), FALLBACK_FILE_NAME);
  assert.equal(safeFileName('a\\b'), 'a_b');
  assert.equal([...safeFileName('x'.repeat(1000))].length, 200);
  assert.equal(baseNameOf('/var/log/syslog'), 'syslog');
  assert.equal(baseNameOf('/home/u/Logs/'), 'Logs');
  assert.equal(baseNameOf('file'), 'file');
});

test('byte ranges: one range served, anything odd ignored, out of bounds refused', () => {
  const size = 1000;
  assert.deepEqual(decideRange(undefined, size), { kind: 'full' });
  assert.deepEqual(decideRange('bytes=0-99', size), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(decideRange('bytes=900-', size), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(decideRange('bytes=900-5000', size), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(decideRange('bytes=-100', size), { kind: 'partial', start: 900, end: 999 });
  assert.deepEqual(decideRange('bytes=-5000', size), { kind: 'partial', start: 0, end: 999 });
  assert.deepEqual(decideRange('bytes=1000-', size), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange('bytes=-0', size), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  for (const ignored of ['bytes=5-1', 'bytes=0-1,5-9', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes=99999999999999999999-']) {
    assert.deepEqual(decideRange(ignored, size), { kind: 'full' }, ignored);
  }
});

test('paths: text once, bounded, no NUL; upload targets name a file', () => {
  assert.deepEqual(parsePathParam(undefined), { ok: true, value: null });
  assert.deepEqual(parsePathParam(''), { ok: true, value: null });
  assert.deepEqual(parsePathParam('/tmp/a b'), { ok: true, value: '/tmp/a b' });
  assert.equal(parsePathParam(['/a', '/b']).ok, false);
  assert.equal(parsePathParam('/a\u0000b').ok, false);
  assert.equal(parsePathParam('/'.repeat(MAX_VM_PATH_CHARS + 1)).ok, false);
  assert.deepEqual(splitUploadPath('/tmp/x.bin'), { ok: true, value: { dir: '/tmp', name: 'x.bin' } });
  assert.deepEqual(splitUploadPath('/x.bin'), { ok: true, value: { dir: '/', name: 'x.bin' } });
  assert.deepEqual(splitUploadPath('x.bin'), { ok: true, value: { dir: '.', name: 'x.bin' } });
  for (const bad of ['/tmp/', '/tmp/..', '.']) assert.equal(splitUploadPath(bad).ok, false, bad);
  assert.equal(joinVmPath('/', 'a'), '/a');
  assert.equal(joinVmPath('/tmp', 'a'), '/tmp/a');
});

test('archive command: the folder is one shell word, whatever it holds', () => {
  for (const dir of ["/tmp/it's here", '/tmp/$(touch /tmp/pwned)', '/tmp/a\nb', '/tmp/`id`;rm -rf ~', '/tmp/-C']) {
    const command = archiveCommand(dir);
    // The shell's own reading of the word after -C is the folder, unchanged.
    const word = command.slice('exec tar -C '.length, command.length - ' -czf - .'.length);
    assert.equal(execFileSync('/bin/sh', ['-c', `printf %s ${word}`]).toString(), dir);
  }
});

test('PORTHOLE_FILE_TRANSFER: on allows everything, download no uploads, off nothing', () => {
  for (const op of ['list', 'download', 'upload'] as const) assert.equal(decideFileOperation('on', op).ok, true);
  assert.equal(decideFileOperation('download', 'list').ok, true);
  assert.equal(decideFileOperation('download', 'download').ok, true);
  assert.equal(decideFileOperation('download', 'upload').ok, false);
  for (const op of ['list', 'download', 'upload'] as const) assert.equal(decideFileOperation('off', op).ok, false);
});

test('listing entries: types from the mode, missing attributes as null, cursors round-trip', () => {
  assert.equal(entryTypeOf(0o100644), 'file');
  assert.equal(entryTypeOf(0o040755), 'dir');
  assert.equal(entryTypeOf(0o120777), 'symlink');
  assert.equal(entryTypeOf(0o060660), 'other');
  assert.equal(entryTypeOf(undefined), 'other');
  assert.deepEqual(entryOf('a\nb', { mode: 0o100640, size: 12, mtime: 1_700_000_000 }), {
    name: 'a\nb',
    type: 'file',
    size: 12,
    modifiedAt: '2023-11-14T22:13:20.000Z',
    mode: 0o640,
  });
  assert.deepEqual(entryOf('x', {}), { name: 'x', type: 'other', size: null, modifiedAt: null, mode: null });
  for (const offset of [0, 1, 1000, 99_000]) assert.deepEqual(decodeCursor(encodeCursor(offset)), { ok: true, value: offset });
  assert.deepEqual(decodeCursor(undefined), { ok: true, value: 0 });
  for (const bad of ['x', 'o', 'o-1', ['o1'], 'ozzzzzzzzz']) assert.equal(decodeCursor(bad).ok, false, JSON.stringify(bad));
});

test('SFTP errors: missing (and loops) 404, denied 403, the rest a VM failure; no VM text', () => {
  const vmText = 'secret-ish VM message';
  assert.equal(fileErrorOf(Object.assign(new Error(vmText), { code: 2 }), '/x').code, 'file_not_found');
  assert.equal(fileErrorOf(Object.assign(new Error(vmText), { code: 3 }), '/x').code, 'file_permission_denied');
  const other = fileErrorOf(Object.assign(new Error(vmText), { code: 4 }), '/x');
  assert.equal(other.code, 'file_transfer_failed');
  assert.ok(!other.message.includes(vmText));
});

test('cross-site reads: another site asking is refused; typed URLs, reloads and scripts pass', () => {
  const own = 'http://127.0.0.1:8080';
  assert.equal(isCrossSiteRequest({ 'sec-fetch-site': 'cross-site' }, own), true);
  assert.equal(isCrossSiteRequest({ 'sec-fetch-site': 'same-site' }, own), true);
  assert.equal(isCrossSiteRequest({ origin: 'http://evil.example' }, own), true);
  assert.equal(isCrossSiteRequest({ 'sec-fetch-site': 'same-origin' }, own), false);
  assert.equal(isCrossSiteRequest({ 'sec-fetch-site': 'none' }, own), false);
  assert.equal(isCrossSiteRequest({}, own), false);
  assert.equal(isCrossSiteRequest({ origin: own }, own), false);
});

test('body deadline: a request whose body stalls is cut; an upload is spared', { timeout: 20_000 }, async () => {
  const app = express();
  app.use(bodyDeadline(100, (req) => req.path === '/upload'));
  app.use((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.end('done'));
  });
  const server = createServer({ requestTimeout: 0 }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const sockets: Socket[] = [];
  const open = (path: string): Promise<Socket> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc`, () => resolve(socket)));
      socket.on('error', () => undefined);
      sockets.push(socket);
    });
  try {
    const stalled = await open('/json');
    const upload = await open('/upload');
    await once(stalled, 'close');
    // Cut at its deadline, while the upload opened after it is still there.
    assert.equal(upload.destroyed, false);
    upload.write('0123456');
    const [answer] = (await once(upload, 'data')) as [Buffer];
    assert.match(answer.toString(), /done$/);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
