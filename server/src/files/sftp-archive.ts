/**
 * A folder's `.tar.gz` made in the gateway, for a VM without `tar`: the folder is walked over
 * SFTP depth first and each entry packed with tar-stream as `tar -C DIR -czf - .` would
 * (./tar-entry.ts), gzip'd and piped to the browser. Everything is streamed with backpressure: a
 * slow browser stalls gzip, which stalls the pack, which stalls the SFTP read of the current file.
 * The gateway holds one read chunk, the streams' buffers, and per open folder one handle and one
 * batch of the VM's readdir answer (OpenSSH sends about 100 names a batch), never a whole listing.
 *
 * Like GNU tar, what cannot be read is left out with a note and the archive still ends properly,
 * so the browser keeps what could be read; the outcome is then incomplete, as `tar`'s exit 2 is
 * (./archive-outcome.ts). Symbolic links are stored as links, never followed, so a link loop
 * is just a link. A failure that is not the VM refusing one entry (the connection went, access
 * ended, the browser left) stops everything and cuts the response.
 */
import { once } from 'node:events';
import { Readable, addAbortSignal } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Response } from 'express';
import type { Attributes, FileEntryWithStats, SFTPWrapper } from 'ssh2';
import { pack as tarPack, type Pack } from 'tar-stream';
import { ByteMeter } from './byte-meter.js';
import { ArchiveNotes, type ArchiveOutcome } from './archive-outcome.js';
import { SFTP_STATUS, sftpStatusOf } from './sftp-errors.js';
import { closeHandle, fstat, open, opendir, readdirBatch } from './sftp-ops.js';
import { archiveEntryKindOf, childEntryName, ROOT_ENTRY_NAME, specialKindName, tarHeaderOf, type TarHeader } from './tar-entry.js';
import { joinVmPath } from './vm-path.js';
import type { Transfer } from './transfer-gate.js';

/** ssh2 asks the VM for this much per read: its own default, and about OpenSSH's largest read answer (as ./download.ts). */
const SFTP_READ_CHUNK_BYTES = 64 * 1024;
/** Written in place of a file's missing tail, a read's worth at a time; never changed, so shared. */
const ZEROS = Buffer.alloc(SFTP_READ_CHUNK_BYTES);

const ignore = (): void => undefined;

/** One entry's writable side, as tar-stream hands it out (a streamx stream, not a Node one). */
type Sink = ReturnType<Pack['entry']>;

/** `folder`: the folder's own attributes, as ./archive.ts stat'ed it (for the "./" entry). */
export async function sendSftpArchive(transfer: Transfer, dir: string, folder: Partial<Attributes>, res: Response): Promise<ArchiveOutcome> {
  const notes = new ArchiveNotes();
  // The walk stops when access ends or when the sending fails (the browser left).
  const stop = new AbortController();
  const signal = AbortSignal.any([transfer.signal, stop.signal]);
  const pack = tarPack();
  const meter = new ByteMeter({ hash: false, onBytes: (bytes) => transfer.progress(bytes) });
  // Bytes, not objects: the pack's chunks are up to a read's size, and 16 of them would be buffered in object mode.
  const sending = pipeline(Readable.from(pack, { objectMode: false }), createGzip(), meter, res, { signal: transfer.signal });
  const walk = new SftpWalk(transfer.vm.sftp, pack, notes, signal);
  walk
    .folder(dir, ROOT_ENTRY_NAME, folder)
    .then(() => pack.finalize())
    .catch((error: unknown) => {
      notes.stopped(signal.aborted ? 'cancelled' : messageOf(error));
      pack.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  try {
    await sending;
    return { path: dir, bytes: meter.bytes, complete: notes.clean && res.writableFinished, stderr: notes.text() };
  } catch {
    stop.abort();
    pack.destroy();
    res.destroy();
    return { path: dir, bytes: meter.bytes, complete: false, stderr: notes.text() };
  }
}

class SftpWalk {
  readonly #sftp: SFTPWrapper;
  readonly #pack: Pack;
  readonly #notes: ArchiveNotes;
  readonly #signal: AbortSignal;

  constructor(sftp: SFTPWrapper, pack: Pack, notes: ArchiveNotes, signal: AbortSignal) {
    this.#sftp = sftp;
    this.#pack = pack;
    this.#notes = notes;
    this.#signal = signal;
  }

  /** The folder's entry, then its contents as the VM lists them, batch by batch. */
  async folder(path: string, entry: string, attrs: Partial<Attributes>): Promise<void> {
    this.#signal.throwIfAborted();
    let handle: Buffer;
    try {
      handle = await opendir(this.#sftp, path);
    } catch (error) {
      return this.#unreadable(entry, 'Cannot open', error);
    }
    try {
      await this.#add(tarHeaderOf(entry, 'folder', attrs)).written;
      for (;;) {
        this.#signal.throwIfAborted();
        let batch: FileEntryWithStats[] | null;
        try {
          batch = await readdirBatch(this.#sftp, handle);
        } catch (error) {
          return this.#unreadable(entry, 'Cannot read', error);
        }
        if (batch === null) return;
        for (const item of batch) await this.#child(joinVmPath(path, item.filename), entry, item.filename, item.attrs);
      }
    } finally {
      closeHandle(this.#sftp, handle).catch(ignore);
    }
  }

  /** `attrs` are the VM's lstat of the entry: a link is seen as a link. */
  async #child(path: string, parent: string, name: string, attrs: Attributes): Promise<void> {
    const kind = archiveEntryKindOf(attrs.mode);
    switch (kind) {
      case 'folder':
        return this.folder(path, childEntryName(parent, name, true), attrs);
      case 'file':
        return this.#file(path, childEntryName(parent, name, false));
      case 'symlink':
        return this.#symlink(path, childEntryName(parent, name, false), attrs);
      case 'skip':
        return this.#notes.ignored(childEntryName(parent, name, false), specialKindName(attrs.mode));
    }
  }

  async #symlink(path: string, entry: string, attrs: Attributes): Promise<void> {
    this.#signal.throwIfAborted();
    let target: string;
    try {
      target = await readlink(this.#sftp, path);
    } catch (error) {
      return this.#unreadable(entry, 'Cannot readlink', error);
    }
    await this.#add(tarHeaderOf(entry, 'symlink', attrs, { linkname: target })).written;
  }

  /**
   * The size is the opened file's (fstat): tar needs it before the bytes. At most that many are
   * read; a file that grew is archived as it was when opened, one that shrank is padded with
   * zeros (as GNU tar does) and noted.
   */
  async #file(path: string, entry: string): Promise<void> {
    this.#signal.throwIfAborted();
    let handle: Buffer;
    try {
      handle = await open(this.#sftp, path, 'r');
    } catch (error) {
      return this.#unreadable(entry, 'Cannot open', error);
    }
    try {
      let stats: Attributes;
      try {
        stats = await fstat(this.#sftp, handle);
      } catch (error) {
        return this.#unreadable(entry, 'Cannot stat', error);
      }
      const size = stats.size;
      const { sink, written } = this.#add(tarHeaderOf(entry, 'file', stats, { size }));
      let sent = 0;
      let readError: unknown = null;
      if (size > 0) {
        const source = addAbortSignal(this.#signal, this.#sftp.createReadStream(path, { handle, start: 0, end: size - 1, autoClose: false, highWaterMark: SFTP_READ_CHUNK_BYTES }));
        try {
          for await (const chunk of source as AsyncIterable<Buffer>) {
            const part = chunk.subarray(0, size - sent);
            sent += part.length;
            await this.#write(sink, part);
          }
        } catch (error) {
          // Only the VM refusing a read is this file's problem; anything else ends the archive.
          if (this.#signal.aborted || sftpStatusOf(error) === null) throw error;
          readError = error;
        } finally {
          source.destroy();
        }
      }
      if (sent < size) {
        this.#notes.failed(entry, readError === null ? `File shrank by ${size - sent} bytes; padding with zeros` : `Read error at byte ${sent}: ${statusText(readError)}; padding with zeros`);
        while (sent < size) {
          const part = ZEROS.subarray(0, Math.min(ZEROS.length, size - sent));
          sent += part.length;
          await this.#write(sink, part);
        }
      }
      // streamx's end takes an optional last chunk; its types make it required.
      sink.end(null);
      await written;
    } finally {
      closeHandle(this.#sftp, handle).catch(ignore);
    }
  }

  /** Starts an entry; `written` settles when the pack has taken all of it (tar-stream takes entries one at a time). */
  #add(header: TarHeader): { sink: Sink; written: Promise<void> } {
    let done: (error?: Error | null) => void = ignore;
    const written = new Promise<void>((resolve, reject) => {
      done = (error) => (error ? reject(error) : resolve());
    });
    // Settled by whoever awaits it; a walk stopped before that must not leave it unhandled.
    written.catch(ignore);
    const sink = this.#pack.entry(header, (error) => done(error));
    // A destroyed pack destroys its entry with an error event; the callback above reports it.
    sink.on('error', ignore);
    return { sink, written };
  }

  /** Waits for the pack to want more: this is where a slow browser holds the walk back. */
  async #write(sink: Sink, chunk: Buffer): Promise<void> {
    if (!sink.write(chunk)) await once(sink, 'drain', { signal: this.#signal });
  }

  /** The VM refused this entry: noted and left out. Anything else is not one entry's problem. */
  #unreadable(entry: string, action: string, error: unknown): void {
    if (this.#signal.aborted || sftpStatusOf(error) === null) throw error;
    this.#notes.failed(entry, `${action}: ${statusText(error)}`);
  }
}

function readlink(sftp: SFTPWrapper, path: string): Promise<string> {
  return new Promise((resolve, reject) => sftp.readlink(path, (error, target) => (error ? reject(error) : resolve(target))));
}

/** The strerror text GNU tar would print; the VM's own message for the rest (it goes to the log only). */
function statusText(error: unknown): string {
  const status = sftpStatusOf(error);
  if (status === SFTP_STATUS.PERMISSION_DENIED) return 'Permission denied';
  if (status === SFTP_STATUS.NO_SUCH_FILE) return 'No such file or directory';
  return messageOf(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
