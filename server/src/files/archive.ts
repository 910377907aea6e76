/**
 * A folder of the VM as a gzip'd tar, made by the VM's own `tar` over an exec channel and piped
 * to the browser: the gateway never holds the archive, and a slow browser slows `tar`. The
 * folder travels as one single-quoted shell word (./vm-path.ts), never spliced into the command.
 * A VM whose login shell finds no `tar` (or that runs no commands) gets the same archive made
 * in the gateway from an SFTP walk (./sftp-archive.ts).
 */
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { Stats } from 'ssh2';
import { GatewayError } from '../errors.js';
import { attachmentDisposition, baseNameOf } from './content-disposition.js';
import { ByteMeter } from './byte-meter.js';
import { fileErrorOf } from './sftp-errors.js';
import { closeHandle, opendir, realpath, stat } from './sftp-ops.js';
import { shellQuote } from '../domain/native-instructions.js';
import { MAX_STDERR_LOGGED_CHARS, type ArchiveOutcome } from './archive-outcome.js';
import { sendSftpArchive } from './sftp-archive.js';
import type { VmCommand } from './sftp-session.js';
import type { Transfer } from './transfer-gate.js';

export type { ArchiveOutcome } from './archive-outcome.js';

/**
 * The command: `tar -C <dir> -czf - .` with the folder as one quoted word (the gateway passes an
 * absolute path, so it never reads as an option); `exec` so tar's status is the channel's.
 */
export function archiveCommand(dir: string): string {
  return `exec tar -C ${shellQuote(dir)} -czf - .`;
}

/** Throws a GatewayError before anything is sent; once streaming, a failure cuts the response. */
export async function sendFolderArchive(transfer: Transfer, path: string, res: Response): Promise<ArchiveOutcome> {
  const { sftp } = transfer.vm;
  let absolute: string;
  let folder: Stats;
  try {
    absolute = await realpath(sftp, path);
    folder = await stat(sftp, absolute);
    if (!folder.isDirectory()) throw new GatewayError('not_a_folder', `${JSON.stringify(path)} is not a folder; download it as a file.`);
    // tar would start and then fail on an unreadable folder, after the headers: ask first.
    await closeHandle(sftp, await opendir(sftp, absolute));
  } catch (error) {
    throw error instanceof GatewayError ? error : fileErrorOf(error, path);
  }
  if (!(await vmHasTar(transfer))) {
    setArchiveHeaders(res, absolute);
    return sendSftpArchive(transfer, absolute, folder, res);
  }

  const { channel, exitStatus } = await transfer.vm.exec(archiveCommand(absolute), transfer.signal);
  let stderr = '';
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < MAX_STDERR_LOGGED_CHARS) stderr += chunk.toString('utf8').slice(0, MAX_STDERR_LOGGED_CHARS - stderr.length);
  });
  setArchiveHeaders(res, absolute);
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

/**
 * The shell must say so: an account that runs something else for every command (`ForceCommand
 * internal-sftp`) exits 0 without running the test, and its `tar` would be that something too.
 */
const TAR_PROBE = 'command -v tar >/dev/null 2>&1 && echo porthole-has-tar';
const TAR_PROBE_ANSWER = 'porthole-has-tar\n';
/** A shell answers a builtin at once; a forced command may wait for input forever. */
const TAR_PROBE_TIMEOUT_MS = 10_000;

/**
 * Whether the login user's shell finds `tar`. A VM that refuses to run commands at all (an
 * SFTP-only account) has none either; an ended transfer is not a missing `tar`.
 */
async function vmHasTar(transfer: Transfer): Promise<boolean> {
  let probe: VmCommand;
  try {
    probe = await transfer.vm.exec(TAR_PROBE, transfer.signal);
  } catch {
    transfer.signal.throwIfAborted();
    return false;
  }
  let answer = '';
  probe.channel.on('data', (chunk: Buffer) => {
    if (answer.length <= TAR_PROBE_ANSWER.length) answer += chunk.toString('latin1');
  });
  probe.channel.stderr.resume();
  // A forced command reading its input (sftp-server) ends with it.
  probe.channel.end();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), TAR_PROBE_TIMEOUT_MS);
  });
  const status = await Promise.race([probe.exitStatus, timedOut]);
  clearTimeout(timer);
  if (status === 'timeout') probe.channel.destroy();
  transfer.signal.throwIfAborted();
  return status === 0 && answer === TAR_PROBE_ANSWER;
}

function setArchiveHeaders(res: Response, absolute: string): void {
  res.status(200).set({
    'Content-Type': 'application/gzip',
    'Content-Disposition': attachmentDisposition(`${baseNameOf(absolute) || 'root'}.tar.gz`),
    'Cache-Control': 'no-store',
  });
}
