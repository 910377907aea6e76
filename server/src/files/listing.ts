/**
 * A folder on the VM, a page at a time. SFTP has no way to seek in a directory, so page N
 * re-reads the folder and skips what earlier pages gave: a 100,000-entry folder costs more
 * round trips for its last pages, but the gateway never holds more than one page and one batch
 * of the VM's answer. Entries come in the VM's order (the page sorts what it shows).
 */
import type { Attributes, SFTPWrapper } from 'ssh2';
import type { FileEntryView, FileListingView, FileEntryType } from '../../../shared/src/api.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { GatewayError } from '../errors.js';
import { fileErrorOf } from './sftp-errors.js';
import { closeHandle, opendir, readdirBatch, realpath, stat } from './sftp-ops.js';

/** Entries per page: a screenful many times over, and about 150 KiB of JSON at most. */
export const LIST_PAGE_ENTRIES = 1000;
/** A cursor is an entry offset; past this no folder is real (ext4 tops out near 10 million per directory in practice). */
const MAX_CURSOR_OFFSET = 100_000_000;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export function entryTypeOf(mode: number | undefined): FileEntryType {
  if (mode === undefined) return 'other';
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'dir';
    case S_IFREG:
      return 'file';
    case S_IFLNK:
      return 'symlink';
    default:
      return 'other';
  }
}

/**
 * One entry as the page gets it. The name is text: ssh2 decodes it as UTF-8 with invalid bytes
 * replaced (U+FFFD), and JSON escapes control characters; the page shows it as text, never markup.
 */
export function entryOf(name: string, attrs: Partial<Attributes>): FileEntryView {
  const mtime = attrs.mtime;
  return {
    name,
    type: entryTypeOf(attrs.mode),
    size: typeof attrs.size === 'number' ? attrs.size : null,
    modifiedAt: typeof mtime === 'number' ? new Date(mtime * 1000).toISOString() : null,
    mode: typeof attrs.mode === 'number' ? attrs.mode & 0o7777 : null,
  };
}

/** Opaque to the page: "o" and the offset in base 36. */
export function encodeCursor(offset: number): string {
  return `o${offset.toString(36)}`;
}

export function decodeCursor(cursor: unknown): Result<number, string> {
  if (cursor === undefined || cursor === '') return ok(0);
  if (typeof cursor !== 'string' || !/^o[0-9a-z]{1,8}$/.test(cursor)) return err('cursor: use the nextCursor of the previous page');
  const offset = parseInt(cursor.slice(1), 36);
  if (offset > MAX_CURSOR_OFFSET) return err('cursor: use the nextCursor of the previous page');
  return ok(offset);
}

/** `path` null: the login user's home (SFTP starts there). */
export async function listFolder(sftp: SFTPWrapper, path: string | null, offset: number, signal: AbortSignal): Promise<FileListingView> {
  const asked = path ?? '.';
  let absolute: string;
  try {
    absolute = await realpath(sftp, asked);
    if (!(await stat(sftp, absolute)).isDirectory()) throw new GatewayError('not_a_folder', `${JSON.stringify(absolute)} is not a folder.`);
  } catch (error) {
    throw error instanceof GatewayError ? error : fileErrorOf(error, asked);
  }
  let handle: Buffer;
  try {
    handle = await opendir(sftp, absolute);
  } catch (error) {
    throw fileErrorOf(error, absolute);
  }
  const entries: FileEntryView[] = [];
  let seen = 0;
  let more = false;
  try {
    for (;;) {
      if (signal.aborted) throw new GatewayError('window_closed', 'Access ended while the folder was read.');
      const batch = await readdirBatch(sftp, handle);
      if (batch === null) break;
      for (const item of batch) {
        if (seen++ < offset) continue;
        if (entries.length === LIST_PAGE_ENTRIES) {
          more = true;
          break;
        }
        entries.push(entryOf(item.filename, item.attrs));
      }
      if (more) break;
    }
  } catch (error) {
    throw error instanceof GatewayError ? error : fileErrorOf(error, absolute);
  } finally {
    closeHandle(sftp, handle).catch(() => undefined);
  }
  return { path: absolute, entries, nextCursor: more ? encodeCursor(offset + entries.length) : null };
}
