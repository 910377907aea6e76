/**
 * The request body to a file on the VM, streamed: a slow VM slows the upload (backpressure from
 * the SFTP write stream to the browser's socket). The bytes go to a temporary name in the target
 * folder and are renamed into place only when complete, so an aborted upload never leaves a
 * half-written file under the real name, and "do not overwrite" is decided by the VM atomically.
 */
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { FileUploadView } from '../../../shared/src/api.js';
import { GatewayError } from '../errors.js';
import { ByteMeter } from './byte-meter.js';
import { fileErrorOf } from './sftp-errors.js';
import { closeHandle, exists, open, renameNoReplace, renameReplace, unlink } from './sftp-ops.js';
import { joinVmPath, splitUploadPath } from './vm-path.js';
import { SftpWriteStream } from './sftp-streams.js';
import type { Transfer } from './transfer-gate.js';

/** Enough randomness that two uploads of one name never share a temporary file. */
const TEMP_SUFFIX_BYTES = 6;
/** What an uploaded file may be read and written as: the login user's umask still applies. */
const UPLOADED_FILE_MODE = 0o644;

export interface UploadRequest {
  readonly path: string;
  readonly overwrite: boolean;
  readonly maxBytes: number;
}

export interface UploadOutcome {
  /** Set when the file is in place. */
  readonly view: FileUploadView | null;
  readonly bytes: number;
  readonly sha256: string | null;
}

export function fileExistsError(path: string): GatewayError {
  return new GatewayError('file_exists', `${JSON.stringify(path)} already exists on the VM; upload again with overwrite=true to replace it.`);
}

export function tooLargeError(maxBytes: number): GatewayError {
  return new GatewayError('payload_too_large', `Uploads are limited to ${maxBytes} bytes on this gateway (PORTHOLE_MAX_UPLOAD_BYTES).`);
}

/** Throws a GatewayError on refusal or failure; the temporary file is removed then. */
export async function receiveFile(transfer: Transfer, body: Readable, request: UploadRequest): Promise<UploadOutcome> {
  const { sftp } = transfer.vm;
  const { path, overwrite } = request;
  const target = splitUploadPath(path);
  if (!target.ok) throw new GatewayError('invalid_field', target.error);
  try {
    // A clear refusal before any byte moves; the rename below decides a race.
    if (!overwrite && (await exists(sftp, path))) throw fileExistsError(path);
  } catch (error) {
    throw error instanceof GatewayError ? error : fileErrorOf(error, path);
  }
  const temp = joinVmPath(target.value.dir, `.${target.value.name}.porthole-upload-${randomBytes(TEMP_SUFFIX_BYTES).toString('hex')}`);
  let handle: Buffer;
  try {
    handle = await open(sftp, temp, 'wx', { mode: UPLOADED_FILE_MODE });
  } catch (error) {
    throw fileErrorOf(error, target.value.dir);
  }
  const meter = new ByteMeter({ hash: true, limit: request.maxBytes, onBytes: (bytes) => transfer.progress(bytes), tooLarge: () => tooLargeError(request.maxBytes) });
  let placed = false;
  let handleOpen = true;
  try {
    const sink = new SftpWriteStream(sftp, handle);
    try {
      await pipeline(body, meter, sink, { signal: transfer.signal });
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (transfer.signal.aborted) throw new GatewayError('window_closed', 'Access ended during the upload; nothing was written.');
      throw new GatewayError('file_transfer_failed', 'The upload did not complete; nothing was written.');
    }
    handleOpen = false;
    await closeHandle(sftp, handle);
    try {
      await (overwrite ? renameReplace(sftp, temp, path) : renameNoReplace(sftp, temp, path));
    } catch (error) {
      if (!overwrite && (await exists(sftp, path).catch(() => false))) throw fileExistsError(path);
      throw fileErrorOf(error, path);
    }
    placed = true;
    const sha256 = meter.sha256() ?? '';
    return { view: { path, size: meter.bytes, sha256 }, bytes: meter.bytes, sha256 };
  } finally {
    if (!placed) {
      // Also after an access end: the VM connection outlives the abort for this (ACCESS_END_CLEANUP_MS).
      if (handleOpen) await closeHandle(sftp, handle).catch(() => undefined);
      await unlink(sftp, temp).catch(() => undefined);
    }
  }
}
