/** The pure pieces of the Files panel (client/src/files/, issue #17) and the shell's folder (OSC 7). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayName, hasHiddenCharacters } from '../../client/src/files/display-name.js';
import { describeRefusal } from '../../client/src/files/errors.js';
import { formatBytes, formatModified, formatProgress, parseModified, percentOf } from '../../client/src/files/format.js';
import { DEFAULT_SORT, filterEntries, nextSort, parseListing, sortEntries, type FileEntry } from '../../client/src/files/listing.js';
import { baseName, breadcrumbs, checkUploadName, joinPath, normalizePath, parentPath, resolvePath } from '../../client/src/files/paths.js';
import { archiveUrl, contentUrl, listUrl } from '../../client/src/files/urls.js';
import { shellDirectoryOf } from '../../client/src/terminal/shell-directory.js';
import { embedTerminalPage, terminalPage } from '../../server/src/http/views/terminal-page.js';
import type { BuildRecord } from '../../server/src/store/store.js';

function entry(name: string, type: FileEntry['type'] = 'file', size: number | null = 0, modifiedAt: number | null = 0): FileEntry {
  return { name, type, size, modifiedAt, mode: null };
}

test('paths: join, parent, base name, normalise', () => {
  assert.equal(joinPath('/home/u', 'a.txt'), '/home/u/a.txt');
  assert.equal(joinPath('/', 'etc'), '/etc');
  assert.equal(joinPath('/home/u/', 'x'), '/home/u/x');
  assert.equal(parentPath('/home/u'), '/home');
  assert.equal(parentPath('/home'), '/');
  assert.equal(parentPath('/'), null);
  assert.equal(parentPath('/home/u/'), '/home');
  assert.equal(baseName('/home/u/a b'), 'a b');
  assert.equal(baseName('/'), '/');
  assert.equal(normalizePath('/a//b/./c/../d/'), '/a/b/d');
  assert.equal(normalizePath('/../../x'), '/x');
  assert.equal(normalizePath(''), '/');
});

test('breadcrumbs: the root, then every folder down to the path', () => {
  assert.deepEqual(breadcrumbs('/'), [{ label: '/', path: '/' }]);
  assert.deepEqual(breadcrumbs('/home/dev/Library Logs'), [
    { label: '/', path: '/' },
    { label: 'home', path: '/home' },
    { label: 'dev', path: '/home/dev' },
    { label: 'Library Logs', path: '/home/dev/Library Logs' },
  ]);
  assert.deepEqual(
    breadcrumbs('/a/<b>x</b>').map((c) => c.label),
    ['/', 'a', '<b>x<', 'b>'],
    'a name cannot hold "/": "<b>x</b>" under /a is two folders, shown as text',
  );
});

test('the path box: absolute, ~, ~/…, relative to the folder shown', () => {
  const home = '/home/dev';
  const here = '/var/log';
  assert.deepEqual(resolvePath('', here, home), { ok: true, path: home });
  assert.deepEqual(resolvePath('  ~ ', here, null), { ok: true, path: null }, 'home before it is known: no path, the gateway picks home');
  assert.deepEqual(resolvePath('/tmp/../etc/', here, home), { ok: true, path: '/etc' });
  assert.deepEqual(resolvePath('~/Library/Logs', here, home), { ok: true, path: '/home/dev/Library/Logs' });
  assert.deepEqual(resolvePath('nginx/..', here, home), { ok: true, path: '/var/log' });
  assert.deepEqual(resolvePath('../..', here, home), { ok: true, path: '/' });
  assert.equal(resolvePath('~root', here, home).ok, false);
  assert.equal(resolvePath('~/x', here, null).ok, false);
  assert.equal(resolvePath('a\0b', here, home).ok, false);
});

test('upload names: a name the VM can have', () => {
  assert.deepEqual(checkUploadName('report.xcresult.zip'), { ok: true });
  assert.deepEqual(checkUploadName('a b <c>'), { ok: true });
  for (const bad of ['', '.', '..', 'a/b', 'a\0b']) assert.equal(checkUploadName(bad).ok, false, JSON.stringify(bad));
});

test('display names: control, separator and bidi characters become visible escapes, on one line', () => {
  assert.equal(displayName('plain name.txt'), 'plain name.txt');
  assert.equal(displayName('<b>bold</b> "q" \'s\''), '<b>bold</b> "q" \'s\'', 'markup stays text: it is never parsed');
  assert.equal(displayName('a\nb\rc\td'), 'a\\nb\\rc\\td');
  assert.equal(displayName('\x1b[31mred\x07'), '\\x1B[31mred\\x07');
  assert.equal(displayName('\x00\x7f\x85'), '\\x00\\x7F\\x85');
  assert.equal(displayName('invoice\u202Efdp.exe'), 'invoice\\u202Efdp.exe', 'a right-to-left override cannot disguise the extension');
  assert.equal(displayName('line\u2028sep'), 'line\\u2028sep');
  assert.equal(displayName('bad\uD800x\uDC00'), 'bad\uFFFDx\uFFFD', 'lone surrogates');
  assert.equal(displayName('emoji 📦 ok ünï'), 'emoji 📦 ok ünï');
  assert.ok(!/[\n\r\u2028\u2029]/.test(displayName('x\ny\u2028z\r')), 'one line');
  assert.equal(hasHiddenCharacters('a\nb'), true);
  assert.equal(hasHiddenCharacters('a\\nb'), false, 'a literal backslash-n is not hidden; the row marks the real one');
});

test('listing: checked, not trusted', () => {
  const listing = parseListing({
    path: '/home/dev',
    entries: [
      { name: 'a.txt', type: 'file', size: 12, modifiedAt: '2026-12-01T10:00:00Z', mode: 33188 },
      { name: 'logs', type: 'dir', size: 4096, modifiedAt: 1764583200, mode: 16877 },
      { name: 'fifo', type: 'socket?', size: -1, modifiedAt: 'yesterday', mode: null },
      { name: '', type: 'file' },
      { name: '../etc', type: 'dir' },
      { name: 42, type: 'file' },
      null,
    ],
    nextCursor: 'c2',
  });
  assert.ok(listing);
  assert.equal(listing.path, '/home/dev');
  assert.equal(listing.nextCursor, 'c2');
  assert.deepEqual(listing.entries, [
    { name: 'a.txt', type: 'file', size: 12, modifiedAt: Date.parse('2026-12-01T10:00:00Z'), mode: 33188 },
    { name: 'logs', type: 'dir', size: 4096, modifiedAt: 1764583200_000, mode: 16877 },
    { name: 'fifo', type: 'other', size: null, modifiedAt: null, mode: null },
  ]);
  assert.equal(parseListing({ path: '/x', entries: [] })?.nextCursor, null, 'no cursor: the last page');
  assert.equal(parseListing({ path: '/x', entries: [], nextCursor: null })?.nextCursor, null);
  assert.equal(parseListing({ path: 'relative', entries: [] }), null);
  assert.equal(parseListing({ path: '/x', entries: 'many' }), null);
  assert.equal(parseListing({ path: '/x', entries: [], nextCursor: 7 }), null);
  assert.equal(parseListing('<html>proxy error</html>'), null);
});

test('sorting: folders first whatever the column and direction; ties by name', () => {
  const entries = [entry('b.log', 'file', 300, 3), entry('zeta', 'dir', 4096, 1), entry('A.txt', 'file', 10, 9), entry('alpha', 'dir', 4096, 5), entry('file10', 'file', 300, 2), entry('file9', 'file', 1, 2)];
  const names = (order: Parameters<typeof sortEntries>[1]): string[] => sortEntries(entries, order).map((e) => e.name);
  assert.deepEqual(names(DEFAULT_SORT), ['alpha', 'zeta', 'A.txt', 'b.log', 'file9', 'file10'], 'case-insensitive, numbers in order');
  assert.deepEqual(names({ key: 'name', descending: true }), ['zeta', 'alpha', 'file10', 'file9', 'b.log', 'A.txt']);
  assert.deepEqual(names({ key: 'size', descending: true }), ['alpha', 'zeta', 'b.log', 'file10', 'A.txt', 'file9']);
  assert.deepEqual(names({ key: 'modified', descending: false }), ['zeta', 'alpha', 'file9', 'file10', 'b.log', 'A.txt']);
  assert.deepEqual(sortEntries([entry('B'), entry('b'), entry('a')], DEFAULT_SORT).map((e) => e.name), ['a', 'B', 'b'], 'names equal to the collator keep a fixed order');
  assert.deepEqual(nextSort(DEFAULT_SORT, 'name'), { key: 'name', descending: true });
  assert.deepEqual(nextSort(DEFAULT_SORT, 'modified'), { key: 'modified', descending: true }, 'newest first');
  assert.deepEqual(nextSort({ key: 'modified', descending: true }, 'name'), { key: 'name', descending: false });
});

test('filtering: case-insensitive, on the name or as it is shown', () => {
  const entries = [entry('Crash.ips'), entry('crashlog.txt'), entry('notes'), entry('a\nb')];
  assert.deepEqual(filterEntries(entries, 'CRASH').map((e) => e.name), ['Crash.ips', 'crashlog.txt']);
  assert.equal(filterEntries(entries, '   '), entries);
  assert.deepEqual(filterEntries(entries, 'a\\nb').map((e) => e.name), ['a\nb']);
});

test('URLs: the build and every path encoded, one query value each', () => {
  assert.equal(listUrl('build-linux', null), '/api/v1/builds/build-linux/files');
  assert.equal(listUrl('build-linux', '/home/dev', 'c 2&x'), '/api/v1/builds/build-linux/files?path=%2Fhome%2Fdev&cursor=c+2%26x');
  assert.equal(listUrl('b/../x', null), '/api/v1/builds/b%2F..%2Fx/files');
  const hostile = '/tmp/a&overwrite=true#b?c%d e\n+';
  const url = new URL(contentUrl('b1', hostile), 'http://gw.example');
  assert.equal(url.pathname, '/api/v1/builds/b1/files/content');
  assert.deepEqual([...url.searchParams], [['path', hostile]], 'the path comes back exactly, and sets nothing else');
  assert.equal(contentUrl('b1', '/tmp/x', true), '/api/v1/builds/b1/files/content?path=%2Ftmp%2Fx&overwrite=true');
  assert.equal(archiveUrl('b1', '/home/dev/Logs'), '/api/v1/builds/b1/files/archive?path=%2Fhome%2Fdev%2FLogs');
});

test('sizes and progress', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(50 * 1024 * 1024), '50 MiB');
  assert.equal(formatBytes(1024 * 1024 - 1), '1.0 MiB', 'never "1024 KiB"');
  assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB');
  assert.equal(formatBytes(-1), '—');
  assert.equal(percentOf(0, 100), 0);
  assert.equal(percentOf(999, 1000), 99, 'not 100 before the last byte');
  assert.equal(percentOf(1000, 1000), 100);
  assert.equal(percentOf(0, 0), 100, 'an empty file is all sent');
  assert.equal(formatProgress(1.5 * 1024 * 1024, 50 * 1024 * 1024), '1.5 MiB of 50 MiB (3%)');
});

test('modification times: ISO strings, seconds or milliseconds', () => {
  assert.equal(parseModified('2026-12-01T10:00:00.000Z'), Date.UTC(2026, 11, 1, 10));
  assert.equal(parseModified(1764583200), 1764583200_000);
  assert.equal(parseModified(1764583200_000), 1764583200_000);
  assert.equal(parseModified('soon'), null);
  assert.equal(parseModified(-5), null);
  assert.equal(parseModified(null), null);
  const utc = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  assert.equal(formatModified(Date.UTC(2026, 11, 1, 10, 5), utc), '1 Dec 2026, 10:05');
  assert.equal(formatModified(null, utc), '—');
});

test("refusals: the panel's words for known codes, the gateway's as one line otherwise", () => {
  assert.equal(describeRefusal(404, 'file_not_found', 'x').message, 'There is no such file or folder on the VM.');
  const closed = describeRefusal(410, 'window_closed', 'closed');
  assert.equal(closed.stopsFiles, true);
  assert.equal(describeRefusal(403, 'file_transfer_disabled', '').stopsFiles, true);
  assert.equal(describeRefusal(403, 'role_forbidden', '').stopsFiles, true);
  assert.equal(describeRefusal(413, 'http_error', '').message, 'The file is larger than this gateway accepts.');
  const other = describeRefusal(500, 'sftp_failed', 'Permission denied:\n<b>/root</b>');
  assert.equal(other.message, 'Permission denied:\\n<b>/root</b>');
  assert.equal(other.stopsFiles, false);
});

test("the shell's folder from OSC 7: the path, never the host", () => {
  assert.equal(shellDirectoryOf('file://vm-1234/home/dev/Library%20Logs'), '/home/dev/Library Logs');
  assert.equal(shellDirectoryOf('file:///tmp'), '/tmp');
  assert.equal(shellDirectoryOf('file://evil.example'), null);
  assert.equal(shellDirectoryOf('http://evil.example/x'), null);
  assert.equal(shellDirectoryOf('file://h/%E0%A4%A'), null, 'broken percent-encoding');
  assert.equal(shellDirectoryOf('file://h/a%00b'), null);
});

test('both terminal pages have the Files button and panel, hidden until the script fills them in', () => {
  const assets = { scripts: [], styles: [] };
  const build = { id: 'build-linux', stack: 'linux' } as unknown as BuildRecord;
  const pages = [terminalPage({ assets, nonce: 'n', build, appName: 'App', userId: 'user-1' }).value, embedTerminalPage({ assets, nonce: 'n' }).value];
  // The full page's remembered settings are its user's (client/src/lib/storage.ts); an embed does not know the user yet.
  assert.match(pages[0] ?? '', /<meta name="porthole-settings-scope" content="user-1">/);
  assert.doesNotMatch(pages[1] ?? '', /porthole-settings-scope/);
  for (const page of pages) {
    assert.match(page, /<button id="files-toggle"[^>]* aria-controls="files-panel"[^>]* hidden>Files<\/button>/);
    assert.match(page, /<aside id="files-panel" class="files-panel" aria-label="Files" hidden><\/aside>/);
    assert.match(page, /<main id="terminal"/);
  }
});
