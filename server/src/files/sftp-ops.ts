/** ssh2's callback SFTP calls as promises; errors keep their SFTP status code (./sftp-errors.ts). */
import type { FileEntryWithStats, InputAttributes, OpenMode, SFTPWrapper, Stats } from 'ssh2';
import { SFTP_STATUS, sftpStatusOf } from './sftp-errors.js';

function call<T>(run: (done: (error: Error | undefined | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

export const realpath = (sftp: SFTPWrapper, path: string): Promise<string> => call((done) => sftp.realpath(path, done));
export const stat = (sftp: SFTPWrapper, path: string): Promise<Stats> => call((done) => sftp.stat(path, done));
export const lstat = (sftp: SFTPWrapper, path: string): Promise<Stats> => call((done) => sftp.lstat(path, done));
export const fstat = (sftp: SFTPWrapper, handle: Buffer): Promise<Stats> => call((done) => sftp.fstat(handle, done));
export const open = (sftp: SFTPWrapper, path: string, mode: OpenMode, attributes: InputAttributes = {}): Promise<Buffer> =>
  call((done) => sftp.open(path, mode, attributes, done));
export const opendir = (sftp: SFTPWrapper, path: string): Promise<Buffer> => call((done) => sftp.opendir(path, done));
export const closeHandle = (sftp: SFTPWrapper, handle: Buffer): Promise<void> => call<void>((done) => sftp.close(handle, (error) => done(error, undefined)));
export const unlink = (sftp: SFTPWrapper, path: string): Promise<void> => call<void>((done) => sftp.unlink(path, (error) => done(error, undefined)));
/** SSH_FXP_RENAME: OpenSSH refuses (FAILURE) when the target exists. */
export const renameNoReplace = (sftp: SFTPWrapper, from: string, to: string): Promise<void> => call<void>((done) => sftp.rename(from, to, (error) => done(error, undefined)));
/** posix-rename@openssh.com: replaces the target atomically. */
export const renameReplace = (sftp: SFTPWrapper, from: string, to: string): Promise<void> => call<void>((done) => sftp.ext_openssh_rename(from, to, (error) => done(error, undefined)));

/** The next batch of a directory handle's entries ("." and ".." left out), or null at its end. */
export function readdirBatch(sftp: SFTPWrapper, handle: Buffer): Promise<FileEntryWithStats[] | null> {
  return new Promise((resolve, reject) => {
    sftp.readdir(handle, (error, list) => {
      if (error && sftpStatusOf(error) === SFTP_STATUS.EOF) return resolve(null);
      if (error) return reject(error);
      resolve(list);
    });
  });
}

/** Whether the path exists (without following a final symlink); other errors are thrown. */
export async function exists(sftp: SFTPWrapper, path: string): Promise<boolean> {
  try {
    await lstat(sftp, path);
    return true;
  } catch (error) {
    if (sftpStatusOf(error) === SFTP_STATUS.NO_SUCH_FILE) return false;
    throw error;
  }
}
