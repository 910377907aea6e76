/**
 * PORTHOLE_FILE_TRANSFER: which file operations a deployment allows. Pure, so every route asks
 * the same question and the table is unit-tested.
 */
import { err, ok, type Result } from '../../../shared/src/result.js';

export const FILE_TRANSFER_MODES = ['on', 'download', 'off'] as const;
export type FileTransferMode = (typeof FILE_TRANSFER_MODES)[number];

/** Listing and downloading read the VM; uploading writes to it. */
export type FileOperation = 'list' | 'download' | 'upload';

export const FILE_TRANSFER_DISABLED_MESSAGE = 'File transfer is turned off on this gateway.';
export const UPLOAD_DISABLED_MESSAGE = 'Uploading files is turned off on this gateway; downloads are allowed.';

export function decideFileOperation(mode: FileTransferMode, operation: FileOperation): Result<null, string> {
  if (mode === 'off') return err(FILE_TRANSFER_DISABLED_MESSAGE);
  if (mode === 'download' && operation === 'upload') return err(UPLOAD_DISABLED_MESSAGE);
  return ok(null);
}
