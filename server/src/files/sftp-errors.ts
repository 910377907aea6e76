/**
 * SFTP status codes as the gateway's errors. OpenSSH's sftp-server reports ENOENT, ENOTDIR and
 * ELOOP (a symlink loop) as "no such file", EACCES and EPERM as "permission denied", and most
 * else as a bare "failure". The VM's own message text is logged by the caller, never shown: it
 * is the VM's to choose.
 */
import { GatewayError } from '../errors.js';

/** SSH_FX_* codes (draft-ietf-secsh-filexfer-02 §7). */
export const SFTP_STATUS = Object.freeze({ EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4 });

export function sftpStatusOf(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

export function fileErrorOf(error: unknown, path: string): GatewayError {
  const status = sftpStatusOf(error);
  if (status === SFTP_STATUS.NO_SUCH_FILE) return new GatewayError('file_not_found', `Nothing at ${JSON.stringify(path)} on the VM (or a symbolic link that leads nowhere or in a loop).`);
  if (status === SFTP_STATUS.PERMISSION_DENIED) return new GatewayError('file_permission_denied', `The VM's login user may not read or write ${JSON.stringify(path)}.`);
  return new GatewayError('file_transfer_failed', `The VM could not complete the file operation on ${JSON.stringify(path)}.`);
}
