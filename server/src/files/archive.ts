/**
 * A folder of the VM as a gzip'd tar, made by the VM's own `tar` over an exec channel and piped
 * to the browser: the gateway never holds the archive, and a slow browser slows `tar`. The
 * folder travels as one single-quoted shell word (./vm-path.ts), never spliced into the command.
 */
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { GatewayError } from '../errors.js';
import { attachmentDisposition, baseNameOf } from './content-disposition.js';
import { ByteMeter } from './byte-meter.js';
import { fileErrorOf } from './sftp-errors.js';
import { closeHandle, opendir, realpath, stat } from './sftp-ops.js';
import { shellQuote } from '../domain/native-instructions.js';
import type { Transfer } from './transfer-gate.js';

/** What a VM's `tar` may say on stderr that is kept for the log; the rest is read and dropped. */
const MAX_STDERR_LOGGED_CHARS = 1024;

export const NO_TAR_MESSAGE = 'The VM has no `tar` command, so folders cannot be downloaded from it; download the files one by one.';

/**
 * The command: `tar -C <dir> -czf - .` with the folder as one quoted word (the gateway passes an
 * absolute path, so it never reads as an option); `exec` so tar's status is the channel's.
 */
export function archiveCommand(dir: string): string {
  return `exec tar -C ${shellQuote(dir)} -czf - .`;
}

export interface ArchiveOutcome {
  readonly path: string;
  readonly bytes: number;
  /** tar finished with status 0 and every byte reached the browser. */
  readonly complete: boolean;
  /** The start of tar's complaints, for the log. */
  readonly stderr: string;
}

/** Throws a GatewayError before anything is sent; once streaming, a failure cuts the response. */
export async function sendFolderArchive(transfer: Transfer, path: string, res: Response): Promise<ArchiveOutcome> {
  const { sftp } = transfer.vm;
  let absolute: string;
  try {
    absolute = await realpath(sftp, path);
    if (!(await stat(sftp, absolute)).isDirectory()) throw new GatewayError('not_a_folder', `${JSON.stringify(path)} is not a folder; download it as a file.`);
    // tar would start and then fail on an unreadable folder, after the headers: ask first.
    await closeHandle(sftp, await opendir(sftp, absolute));
  } catch (error) {
    throw error instanceof GatewayError ? error : fileErrorOf(error, path);
  }
  const probe = await transfer.vm.exec('command -v tar >/dev/null 2>&1', transfer.signal);
  probe.channel.resume();
  probe.channel.stderr.resume();
  if ((await probe.exitStatus) !== 0) throw new GatewayError('archive_unavailable', NO_TAR_MESSAGE);

  const { channel, exitStatus } = await transfer.vm.exec(archiveCommand(absolute), transfer.signal);
  let stderr = '';
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < MAX_STDERR_LOGGED_CHARS) stderr += chunk.toString('utf8').slice(0, MAX_STDERR_LOGGED_CHARS - stderr.length);
  });
  const name = `${baseNameOf(absolute) || 'root'}.tar.gz`;
  res.status(200).set({
    'Content-Type': 'application/gzip',
    'Content-Disposition': attachmentDisposition(name),
    'Cache-Control': 'no-store',
  });
  const meter = new ByteMeter({ hash: false, onBytes: (bytes) => transfer.progress(bytes) });
  // The response is ended only once tar's status is known: a failed tar must not look like a finished download.
  meter.pipe(res, { end: false });
  const cut = (): ArchiveOutcome => {
    channel.destroy();
    res.destroy();
    return { path: absolute, bytes: meter.bytes, complete: false, stderr };
  };
  const onAbort = (): void => void cut();
  transfer.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await pipeline(channel, meter, { signal: transfer.signal });
    if (!meter.readableEnded) await once(meter, 'end', { signal: transfer.signal });
    if ((await exitStatus) !== 0) return cut();
    res.end();
    await once(res, 'finish', { signal: transfer.signal });
    return { path: absolute, bytes: meter.bytes, complete: true, stderr };
  } catch {
    return cut();
  } finally {
    transfer.signal.removeEventListener('abort', onAbort);
  }
}
