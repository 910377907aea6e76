/**
 * Paths on the build's VM as the browser names them: text only, checked for what would break
 * the SFTP request or the shell command, never resolved here (the VM's own SFTP server does that,
 * as the login user, so the gateway grants nothing the user could not do in the terminal).
 */
import { err, ok, type Result } from '../../../shared/src/result.js';

/** Linux's PATH_MAX: no real path is longer. */
export const MAX_VM_PATH_CHARS = 4096;

/** The `path` query parameter: null when absent or empty (the login user's home). */
export function parsePathParam(value: unknown): Result<string | null, string> {
  if (value === undefined || value === '') return ok(null);
  if (typeof value !== 'string') return err('path: give it once, as text');
  if (value.length > MAX_VM_PATH_CHARS) return err(`path: at most ${MAX_VM_PATH_CHARS} characters`);
  if (value.includes('\u0000')) return err('path: must not contain NUL');
  return ok(value);
}

/** The folder and name of an upload's target, or an error when it names no file. */
export function splitUploadPath(path: string): Result<{ readonly dir: string; readonly name: string }, string> {
  const slash = path.lastIndexOf('/');
  const name = slash === -1 ? path : path.slice(slash + 1);
  const dir = slash === -1 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
  if (name === '' || name === '.' || name === '..') return err('path: name the file to write, not a folder');
  return ok({ dir, name });
}

/** `dir` joined with `name` the way the VM reads it. */
export function joinVmPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}
