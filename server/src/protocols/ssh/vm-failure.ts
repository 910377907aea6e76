/**
 * What the user is told when the gateway cannot log in to a VM: one sentence per failure that says
 * what to do next, and the stable code a page branches on (a page retries `vm_unreachable` by
 * itself; a changed host key or a refused login will not get better by retrying).
 */
import type { ErrorCode } from '../../../../shared/src/errors.js';
import type { SshOpenFailure } from './upstream.js';

export const VM_UNREACHABLE = 'The build VM could not be reached; it may still be starting.';
export const VM_TIMED_OUT = 'The build VM did not answer in time; it may be busy or still starting.';
export const VM_LOGIN_REFUSED = 'The build VM refused the login; its credentials may have changed. Rebuild with remote access if it persists.';
export const VM_HOST_KEY_CHANGED = "The build VM's host key changed: the VM was replaced or the connection is intercepted. Rebuild with remote access.";
export const VM_SHELL_REFUSED = 'The build VM refused to open a shell. Reconnect to try again.';

export interface VmFailureReport {
  readonly code: ErrorCode;
  readonly message: string;
}

export function describeVmFailure(failure: SshOpenFailure): VmFailureReport {
  switch (failure.kind) {
    case 'host_key_rejected':
      return { code: 'vm_host_key_changed', message: VM_HOST_KEY_CHANGED };
    case 'auth_failed':
      return { code: 'vm_login_refused', message: VM_LOGIN_REFUSED };
    case 'timeout':
      return { code: 'vm_unreachable', message: VM_TIMED_OUT };
    case 'shell_refused':
      return { code: 'vm_shell_refused', message: VM_SHELL_REFUSED };
    case 'unreachable':
    case 'aborted':
      return { code: 'vm_unreachable', message: VM_UNREACHABLE };
  }
}
