/**
 * The folder archive the gateway makes for a VM without `tar` (issue #17): the pure pieces (tar
 * names and headers from SFTP attributes, the bounded notes) and the walk against a fake SFTP,
 * for what a real VM cannot be made to do on cue: a file that shrinks or fails while read, a
 * lost connection, access ending while the browser reads slowly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Response } from 'express';
import type { SFTPWrapper } from 'ssh2';
import { extract } from 'tar-stream';
import { archiveEntryKindOf, childEntryName, ROOT_ENTRY_NAME, specialKindName, tarHeaderOf } from '../../server/src/files/tar-entry.js';
import { ArchiveNotes, MAX_STDERR_LOGGED_CHARS, type ArchiveOutcome } from '../../server/src/files/archive-outcome.js';
import { sendSftpArchive } from '../../server/src/files/sftp-archive.js';
import type { Transfer } from '../../server/src/files/transfer-gate.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;

test('tar entry names: "./", children under their folder, folders with a trailing slash', () => {
  assert.equal(ROOT_ENTRY_NAME, './');
  assert.equal(childEntryName('./', 'a.txt', false), './a.txt');
  assert.equal(childEntryName('./', 'sub', true), './sub/');
  assert.equal(childEntryName('./sub/', "it's here", false), "./sub/it's here");
});

test('entry kinds from the VM mode: folders, files and links are archived, the rest skipped and named', () => {
  assert.equal(archiveEntryKindOf(S_IFDIR | 0o755), 'folder');
  assert.equal(archiveEntryKindOf(S_IFREG | 0o644), 'file');
  assert.equal(archiveEntryKindOf(S_IFLNK | 0o777), 'symlink');
  assert.equal(archiveEntryKindOf(S_IFIFO | 0o644), 'skip');
  assert.equal(archiveEntryKindOf(undefined), 'skip');
  assert.equal(specialKindName(S_IFSOCK | 0o755), 'socket');
  assert.equal(specialKindName(S_IFIFO | 0o644), 'fifo');
  assert.equal(specialKindName(0o020000), 'character device');
  assert.equal(specialKindName(0o060000), 'block device');
});

test('tar headers keep the mode (even 000), owner ids and time; links carry their target and no size', () => {
  const file = tarHeaderOf('./a', 'file', { mode: S_IFREG, uid: 1001, gid: 1002, mtime: 1_800_000_000 }, { size: 42 });
  assert.deepEqual(file, { name: './a', type: 'file', mode: S_IFREG, uid: 1001, gid: 1002, mtime: new Date(1_800_000_000_000), size: 42 });
  assert.notEqual(file.mode, 0, 'a 000 file keeps its type bits so tar-stream does not put its default mode in');
  const folder = tarHeaderOf('./d/', 'folder', { mode: S_IFDIR | 0o700, mtime: 1 });
  assert.equal(folder.type, 'directory');
  assert.equal(folder.size, 0);
  const link = tarHeaderOf('./loop', 'symlink', { mode: S_IFLNK | 0o777, mtime: 1 }, { linkname: '.', size: 99 });
  assert.deepEqual([link.type, link.linkname, link.size], ['symlink', '.', 0]);
});

test('archive notes: counts first, in tar\'s words, the text bounded; only failures make it unclean', () => {
  const notes = new ArchiveNotes();
  assert.equal(notes.text(), '');
  notes.ignored('./sock', 'socket');
  assert.equal(notes.clean, true);
  assert.equal(notes.text(), '0 entries unreadable or changed, 1 special files ignored\n./sock: socket ignored\n');
  for (let i = 0; i < 1000; i += 1) notes.failed(`./f${i}`, 'Cannot open: Permission denied');
  assert.equal(notes.clean, false);
  assert.equal(notes.text().length, MAX_STDERR_LOGGED_CHARS);
  assert.match(notes.text(), /^1000 entries unreadable or changed, 1 special files ignored\n/);
});

// --- the walk against a fake SFTP ---------------------------------------------------------------

interface FakeNode {
  readonly mode: number;
  /** A file's bytes. */
  readonly data?: Buffer;
  /** What fstat says the size is, when not the bytes' (the file grew since). */
  readonly size?: number;
  /** How many of them a read gets before the file "ends" (it shrank) or `failAt` fails. */
  readonly readable?: number;
  /** The read fails with this SFTP status once `readable` bytes were read; no status: the connection is lost. */
  readonly failWith?: number | 'connection';
  readonly target?: string;
  readonly denied?: boolean;
}

const sftpError = (code: number | undefined, message: string): Error => Object.assign(new Error(message), code === undefined ? {} : { code });

/** Folders are the paths that others sit directly under; each readdir answers every child at once, then EOF. */
function fakeSftp(tree: Record<string, FakeNode>, read = { bytes: 0 }): SFTPWrapper {
  const listed = new Set<string>();
  const attrsOf = (node: FakeNode): { mode: number; size: number; mtime: number; atime: number; uid: number; gid: number } => ({ mode: node.mode, size: node.size ?? node.data?.length ?? 0, mtime: 1_800_000_000, atime: 0, uid: 1001, gid: 1001 });
  const nodeOf = (path: string): FakeNode => {
    const node = tree[path];
    if (!node) throw new Error(`no ${path} in the fake`);
    return node;
  };
  const fake = {
    opendir: (path: string, cb: (e: Error | undefined, h?: Buffer) => void) => (nodeOf(path).denied ? cb(sftpError(3, 'Permission denied')) : cb(undefined, Buffer.from(path))),
    readdir: (handle: Buffer, cb: (e: Error | undefined, list?: unknown[]) => void) => {
      const dir = handle.toString();
      if (listed.has(dir)) return cb(sftpError(1, 'EOF'));
      listed.add(dir);
      const children = Object.keys(tree).filter((p) => p !== dir && p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'));
      cb(undefined, children.map((p) => ({ filename: p.slice(dir.length + 1), longname: '', attrs: attrsOf(nodeOf(p)) })));
    },
    close: (_handle: Buffer, cb: (e?: Error) => void) => cb(),
    open: (path: string, _mode: string, _attrs: unknown, cb: (e: Error | undefined, h?: Buffer) => void) => (nodeOf(path).denied ? cb(sftpError(3, 'Permission denied')) : cb(undefined, Buffer.from(path))),
    fstat: (handle: Buffer, cb: (e: Error | undefined, s?: unknown) => void) => cb(undefined, attrsOf(nodeOf(handle.toString()))),
    readlink: (path: string, cb: (e: Error | undefined, t?: string) => void) => cb(undefined, nodeOf(path).target ?? ''),
    createReadStream: (path: string, options: { start: number; end: number }) => {
      const node = nodeOf(path);
      const data = node.data ?? Buffer.alloc(0);
      const readable = Math.min(node.readable ?? data.length, options.end + 1);
      let sent = options.start;
      return new Readable({
        highWaterMark: 1024,
        read() {
          if (sent < readable) {
            const chunk = data.subarray(sent, Math.min(readable, sent + 1000));
            sent += chunk.length;
            read.bytes += chunk.length;
            this.push(chunk);
          } else if (node.failWith !== undefined) {
            this.destroy(sftpError(node.failWith === 'connection' ? undefined : node.failWith, 'read failed'));
          } else {
            this.push(null);
          }
        },
      });
    },
  };
  return fake as unknown as SFTPWrapper;
}

/** A browser reading everything, or (paused) reading nothing at all. */
function fakeResponse(paused = false): { res: Response; body: () => Buffer } {
  const chunks: Buffer[] = [];
  const res = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      if (!paused) done();
    },
  });
  return { res: res as unknown as Response, body: () => Buffer.concat(chunks) };
}

function fakeTransfer(sftp: SFTPWrapper, signal = new AbortController().signal): Transfer {
  return { vm: { sftp }, signal, progress: () => undefined } as unknown as Transfer;
}

async function entriesOf(gzipped: Buffer): Promise<Map<string, { type: string; data: Buffer; linkname: string | null }>> {
  const entries = new Map<string, { type: string; data: Buffer; linkname: string | null }>();
  for await (const entry of Readable.from(gzipped).pipe(createGunzip()).pipe(extract())) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    entries.set(entry.header.name, { type: entry.header.type, data: Buffer.concat(parts), linkname: entry.header.linkname ?? null });
  }
  return entries;
}

const ROOT = '/home/u/out';

test('walk: folders, files, links and an empty folder in tar order; a denied file and a fifo left out and noted', async () => {
  const a = Buffer.from('a'.repeat(3000));
  const sftp = fakeSftp({
    [ROOT]: { mode: S_IFDIR | 0o755 },
    [`${ROOT}/a.txt`]: { mode: S_IFREG | 0o644, data: a },
    [`${ROOT}/sub`]: { mode: S_IFDIR | 0o755 },
    [`${ROOT}/sub/empty`]: { mode: S_IFDIR | 0o700 },
    [`${ROOT}/sub/loop`]: { mode: S_IFLNK | 0o777, target: '..' },
    [`${ROOT}/secret`]: { mode: S_IFREG, data: Buffer.from('x'), denied: true },
    [`${ROOT}/locked`]: { mode: S_IFDIR, denied: true },
    [`${ROOT}/pipe`]: { mode: S_IFIFO | 0o644 },
  });
  const { res, body } = fakeResponse();
  const outcome = await sendSftpArchive(fakeTransfer(sftp), ROOT, { mode: S_IFDIR | 0o755, mtime: 1 }, res);
  const entries = await entriesOf(body());
  assert.deepEqual([...entries.keys()], ['./', './a.txt', './sub/', './sub/empty/', './sub/loop']);
  assert.ok(entries.get('./a.txt')?.data.equals(a));
  assert.deepEqual([entries.get('./sub/loop')?.type, entries.get('./sub/loop')?.linkname], ['symlink', '..']);
  assert.deepEqual(outcome, {
    path: ROOT,
    bytes: body().length,
    complete: false,
    stderr: '2 entries unreadable or changed, 1 special files ignored\n./secret: Cannot open: Permission denied\n./locked/: Cannot open: Permission denied\n./pipe: fifo ignored\n',
  } satisfies ArchiveOutcome);
});

test('walk: a file that shrank while read is padded with zeros to its size and noted; one that grew is cut at its size', async () => {
  const shrank = Buffer.from('s'.repeat(5000));
  const grew = Buffer.from('g'.repeat(2000));
  const sftp = fakeSftp({
    [ROOT]: { mode: S_IFDIR | 0o755 },
    [`${ROOT}/shrank`]: { mode: S_IFREG | 0o644, data: shrank, readable: 1500 },
    [`${ROOT}/failed`]: { mode: S_IFREG | 0o644, data: shrank, readable: 2500, failWith: 4 },
  });
  const { res, body } = fakeResponse();
  const outcome = await sendSftpArchive(fakeTransfer(sftp), ROOT, { mode: S_IFDIR | 0o755 }, res);
  const entries = await entriesOf(body());
  assert.ok(entries.get('./shrank')?.data.equals(Buffer.concat([shrank.subarray(0, 1500), Buffer.alloc(3500)])));
  assert.ok(entries.get('./failed')?.data.equals(Buffer.concat([shrank.subarray(0, 2500), Buffer.alloc(2500)])));
  assert.equal(outcome.complete, false);
  assert.match(outcome.stderr, /^\.\/shrank: File shrank by 3500 bytes; padding with zeros$/m);
  assert.match(outcome.stderr, /^\.\/failed: Read error at byte 2500: read failed; padding with zeros$/m);

  // The fake's read honours `end` as ssh2's does: bytes past the size fstat gave are never asked for.
  const grown = fakeSftp({ [ROOT]: { mode: S_IFDIR | 0o755 }, [`${ROOT}/grew`]: { mode: S_IFREG | 0o644, data: grew, size: 1200 } });
  const again = fakeResponse();
  const whole = await sendSftpArchive(fakeTransfer(grown), ROOT, { mode: S_IFDIR | 0o755 }, again.res);
  assert.equal(whole.complete, true);
  assert.equal(whole.stderr, '');
  assert.ok((await entriesOf(again.body())).get('./grew')?.data.equals(grew.subarray(0, 1200)));
});

test('walk: a lost connection is no one file\'s problem: the response is cut, incomplete, the reason logged', async () => {
  const sftp = fakeSftp({
    [ROOT]: { mode: S_IFDIR | 0o755 },
    [`${ROOT}/a`]: { mode: S_IFREG | 0o644, data: Buffer.alloc(10_000, 1), readable: 4000, failWith: 'connection' },
  });
  const { res } = fakeResponse();
  const outcome = await sendSftpArchive(fakeTransfer(sftp), ROOT, { mode: S_IFDIR | 0o755 }, res);
  assert.equal(outcome.complete, false);
  assert.equal((res as unknown as Writable).destroyed, true, 'the response is cut, not ended');
  assert.match(outcome.stderr, /^archive stopped: read failed$/m);
});

/** Turns of the event loop until the fake's reads stop moving: everything here is in-process, so a stall is final. */
async function quiescent(read: { bytes: number }): Promise<void> {
  for (let still = 0, last = -1, turns = 0; still < QUIET_TURNS && turns < MAX_TURNS; turns += 1) {
    still = read.bytes === last ? still + 1 : 0;
    last = read.bytes;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
/** Turns without a read that count as stalled, and the most turns to wait for it. */
const QUIET_TURNS = 20;
const MAX_TURNS = 10_000;

test('walk: a browser that reads nothing holds the SFTP reads back; access ending then stops everything at once', async () => {
  const big = randomBytes(8 * 1024 * 1024);
  const read = { bytes: 0 };
  const sftp = fakeSftp({ [ROOT]: { mode: S_IFDIR | 0o755 }, [`${ROOT}/big`]: { mode: S_IFREG | 0o644, data: big } }, read);
  const { res } = fakeResponse(true);
  const access = new AbortController();
  const sending = sendSftpArchive(fakeTransfer(sftp, access.signal), ROOT, { mode: S_IFDIR | 0o755 }, res);
  await quiescent(read);
  // The streams' buffers (a few 16 KiB each, gzip's window) and no more: random bytes do not compress.
  assert.ok(read.bytes > 0 && read.bytes < 1024 * 1024, `${read.bytes} bytes read while the browser read none`);
  access.abort();
  const outcome = await sending;
  assert.equal(outcome.complete, false);
  assert.equal((res as unknown as Writable).destroyed, true);
});
