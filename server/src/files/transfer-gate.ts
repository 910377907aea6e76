/**
 * Admits one file operation under the terminal's access policy and keeps it answerable to it:
 * the user's role and the build's window are checked as for a terminal (../access/), and the
 * operation is registered with the access enforcer like a live connection (kind "ssh", the VM
 * endpoint it dialled), so the window end, a revocation, a demotion, a sign-out or a replaced VM
 * aborts it within the enforcer's 1 s, exactly as it ends a terminal.
 *
 * The claim is taken before the policy is read (as ../sessions/admission.ts does): a revocation
 * landing while the store is read cancels it.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import { GatewayError } from '../errors.js';
import type { BuildRecord, Store } from '../store/store.js';
import { loadBuildStanding } from '../access/build-access.js';
import { REFUSAL_MESSAGES } from '../access/remote-access.js';
import type { AccessEnforcer } from '../sessions/access-enforcer.js';
import type { ReleaseSlot, UserConnectionQuota } from '../sessions/connection-quota.js';
import { endpointFingerprints } from '../domain/vm-endpoint.js';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { Logger } from '../log.js';
import { VM_HOST_KEY_CHANGED, VM_LOGIN_REFUSED, VM_TIMED_OUT, VM_UNREACHABLE } from '../protocols/ssh/vm-failure.js';
import { openVmFileSession, type VmFileSession, type VmFileSessionDeps, type VmFilesFailure } from './sftp-session.js';

/**
 * Downloads, archives and uploads one user may run at once on this node. Browsers open about six
 * connections per host; four transfers leave the page room for its own calls, and a script
 * cannot hold many of the VM's sshd slots.
 */
export const MAX_TRANSFERS_PER_USER = 4;
/**
 * When access ends, the transfer stops at once (its signal aborts) but its VM connection stays this
 * long so the operation can clean up on the VM (an upload removes its temporary file), unless it
 * closes sooner. Well inside the enforcer's 1 s: the VM connection is gone by then too.
 */
export const ACCESS_END_CLEANUP_MS = 500;

/** Who asks: a signed-in browser (signInId set) or an embed page (signInId null). */
export interface Requester {
  readonly userId: UserId;
  readonly sessionEpoch: string;
  readonly signInId: string | null;
}

export interface TransferGateDeps {
  readonly store: Store;
  readonly enforcer: Pick<AccessEnforcer, 'beginConnection'>;
  /** Concurrent transfers per user (MAX_TRANSFERS_PER_USER), separate from terminals and screens. */
  readonly quota: UserConnectionQuota;
  readonly vm: VmFileSessionDeps;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** An admitted operation with its own VM connection; `signal` aborts when access ends. */
export interface Transfer {
  readonly build: BuildRecord;
  readonly vm: VmFileSession;
  /**
   * Aborted when access ends (window, revocation, demotion, sign-out), the VM went, or close() ran.
   * After an access end the VM connection lasts ACCESS_END_CLEANUP_MS more, for cleanup.
   */
  readonly signal: AbortSignal;
  /** Bytes moved: the idle timeout counts a transfer in progress as activity. */
  progress(bytes: number): void;
  /** Idempotent: ends the VM connection, the registration and the user's slot. */
  close(): void;
}

/** `counted`: takes one of the user's transfer slots (listings do not: they are short). */
export async function openTransfer(deps: TransferGateDeps, who: Requester, buildId: BuildId, counted: boolean): Promise<Transfer> {
  const releaseSlot: ReleaseSlot | null = counted ? deps.quota.tryAcquire(who.userId) : () => undefined;
  if (!releaseSlot) throw new GatewayError('too_many_transfers', `You already have ${deps.quota.limit} file transfers running; wait for one to finish.`);
  const pending = deps.enforcer.beginConnection(who.userId, buildId, who.signInId);
  const abort = new AbortController();
  let vm: VmFileSession | null = null;
  try {
    const standing = await loadBuildStanding(deps.store, buildId, who.userId, deps.now());
    if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
    if (!standing.decision.ok) throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
    const { build } = standing;
    const opened = await openVmFileSession(deps.vm, build, abort.signal);
    if (!opened.ok) throw vmError(deps, build, opened.error);
    vm = opened.value;
    if (pending.cancelled) throw cancelledError(pending.cancelled.code);
    const session = vm;
    let closed = false;
    let moved = 0;
    let cleanupTimer: NodeJS.Timeout | undefined;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(cleanupTimer);
      abort.abort();
      registration.release();
      releaseSlot();
      session.close();
    };
    const stopForAccessEnd = (): void => {
      if (closed || abort.signal.aborted) return;
      abort.abort();
      registration.release();
      cleanupTimer = setTimeout(close, ACCESS_END_CLEANUP_MS);
      cleanupTimer.unref();
    };
    const registration = pending.activate(
      {
        userId: who.userId,
        appId: build.appId,
        buildId: build.id,
        kind: 'ssh',
        endpoint: endpointFingerprints(build).ssh ?? '',
        openedAt: deps.now(),
        signInId: who.signInId,
        sessionEpoch: who.sessionEpoch,
        end: (code, reason) => {
          deps.logger.info({ event: 'file_transfer_ended', buildId: build.id, userId: who.userId, code, reason }, 'file transfer ended by an access change');
          stopForAccessEnd();
        },
        // A transfer has no channel to tell its page; the page polls the window like the screen page.
        windowChanged: () => undefined,
        bytes: () => ({ toBrowser: moved, fromBrowser: 0 }),
      },
      build.closesAt,
    );
    session.onClosed(close);
    return {
      build,
      vm: session,
      signal: abort.signal,
      progress: (bytes) => {
        moved += bytes;
        registration.touch();
      },
      close,
    };
  } catch (error) {
    pending.abandon();
    releaseSlot();
    abort.abort();
    vm?.close();
    throw error;
  }
}

function cancelledError(code: number): GatewayError {
  return code === CloseCode.windowClosed ? new GatewayError('window_closed', 'Access ended while the transfer was starting.') : new GatewayError('role_forbidden', 'Access ended while the transfer was starting.');
}

function vmError(deps: TransferGateDeps, build: BuildRecord, failure: VmFilesFailure): GatewayError {
  deps.logger.info({ event: 'vm_connect_failed', buildId: build.id, failure: failure.kind, purpose: 'files' }, 'file transfer could not reach the VM');
  switch (failure.kind) {
    case 'host_key_rejected':
      return new GatewayError('vm_host_key_changed', VM_HOST_KEY_CHANGED);
    case 'auth_failed':
      return new GatewayError('vm_login_refused', VM_LOGIN_REFUSED);
    case 'sftp_unavailable':
      return new GatewayError('vm_unreachable', 'The VM offers no SFTP service (its sshd has no "Subsystem sftp").');
    case 'timeout':
      return new GatewayError('vm_unreachable', VM_TIMED_OUT);
    case 'aborted':
    case 'shell_refused':
    case 'unreachable':
      return new GatewayError('vm_unreachable', VM_UNREACHABLE);
  }
}
