/**
 * What the panel says when the gateway refuses. Branches on the error code (shared/src/errors.ts and
 * the Files codes of docs/api.md), never on the message; a message it has no words for is the
 * gateway's, shown as text on one line.
 */
import { ApiError } from '../lib/api.js';
import { displayName } from './display-name.js';

export interface FilesProblem {
  readonly message: string;
  /** Nothing can move on this gateway (or for this user here): the panel stops offering it. */
  readonly stopsFiles: boolean;
  /** Uploads are refused though downloads may work (`PORTHOLE_FILE_TRANSFER=download`). */
  readonly stopsUploads: boolean;
}

const TEXT: Readonly<Record<string, string>> = {
  file_not_found: 'There is no such file or folder on the VM.',
  file_exists: 'A file of that name is already in this folder.',
  file_transfer_disabled: 'This gateway does not allow moving files.',
  role_forbidden: 'Your role on this app does not allow moving files.',
  window_closed: "The build's access window has closed: files can no longer be moved.",
  not_found: 'This build does not exist, or it is not one of your apps.',
  unauthenticated: 'You are signed out. Reload the page to sign in again.',
  payload_too_large: 'The file is larger than this gateway accepts.',
  too_many_connections: 'Too many transfers at once: wait for one to finish and try again.',
  too_many_transfers: 'Too many transfers at once: wait for one to finish and try again.',
  rate_limited: 'Too many transfers at once: wait for one to finish and try again.',
  forbidden_origin: 'The gateway refused a request from this page. Reload the page.',
};

export function describeRefusal(status: number, code: string, message: string): FilesProblem {
  const known = TEXT[code] ?? (status === 413 ? TEXT['payload_too_large'] : status === 410 ? TEXT['window_closed'] : undefined);
  const stopsFiles = code === 'file_transfer_disabled' || code === 'role_forbidden' || code === 'window_closed' || status === 410;
  return {
    message: known ?? (message.trim() === '' ? `The gateway refused (${status}).` : displayName(message)),
    stopsFiles,
    stopsUploads: stopsFiles,
  };
}

export function describeError(error: unknown): FilesProblem {
  if (error instanceof ApiError) return describeRefusal(error.status, error.code, error.message);
  // What fetch rejects with when the network fails.
  if (error instanceof TypeError) return { message: 'Could not reach the gateway. Check your network connection.', stopsFiles: false, stopsUploads: false };
  return { message: 'Something went wrong in the page. Reload it and try again.', stopsFiles: false, stopsUploads: false };
}
