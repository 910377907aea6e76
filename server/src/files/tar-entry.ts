/**
 * One entry of a folder archive built in the gateway (./sftp-archive.ts), as GNU tar names and
 * describes it for `tar -C DIR -czf - .`: names relative to the folder ("./", "./a/", "./a/b"),
 * folders with a trailing slash, and the VM's mode, owner ids and time kept. Pure: SFTP
 * attributes in, a tar-stream header out.
 */
import type { Attributes } from 'ssh2';
import type { Header } from 'tar-stream';
import { entryTypeOf } from './listing.js';

/** What tar-stream's `entry` takes: the name, the rest defaulted. */
export type TarHeader = Partial<Header> & Pick<Header, 'name'>;

/** The folder itself, as tar names it. */
export const ROOT_ENTRY_NAME = './';

/** A child's name in the archive; `parent` is a folder entry's name ("./" or "./a/"). */
export function childEntryName(parent: string, name: string, isFolder: boolean): string {
  return `${parent}${name}${isFolder ? '/' : ''}`;
}

/** What the walk does with an entry the VM lists; `skip` covers sockets, fifos and devices. */
export type ArchiveEntryKind = 'folder' | 'file' | 'symlink' | 'skip';

export function archiveEntryKindOf(mode: number | undefined): ArchiveEntryKind {
  switch (entryTypeOf(mode)) {
    case 'dir':
      return 'folder';
    case 'file':
      return 'file';
    case 'symlink':
      return 'symlink';
    case 'other':
      return 'skip';
  }
}

/** What a skipped special entry is, in tar's words ("socket ignored"). */
export function specialKindName(mode: number | undefined): string {
  switch ((mode ?? 0) & 0o170000) {
    case 0o140000:
      return 'socket';
    case 0o010000:
      return 'fifo';
    case 0o020000:
      return 'character device';
    case 0o060000:
      return 'block device';
    default:
      return 'file of unknown type';
  }
}

/**
 * The tar header for an entry. The mode is passed with its type bits: tar-stream replaces a
 * mode of 0 by its default, and a `chmod 000` file must stay 000 (the header keeps `mode & 07777`).
 */
export function tarHeaderOf(name: string, kind: Exclude<ArchiveEntryKind, 'skip'>, attrs: Partial<Attributes>, extra: { readonly size?: number; readonly linkname?: string } = {}): TarHeader {
  const header: TarHeader = {
    name,
    type: kind === 'folder' ? 'directory' : kind,
    mode: attrs.mode ?? (kind === 'folder' ? 0o040755 : 0o100644),
    mtime: new Date((attrs.mtime ?? 0) * 1000),
    uid: attrs.uid ?? 0,
    gid: attrs.gid ?? 0,
    size: kind === 'file' ? (extra.size ?? 0) : 0,
  };
  if (kind === 'symlink') header.linkname = extra.linkname ?? '';
  return header;
}
