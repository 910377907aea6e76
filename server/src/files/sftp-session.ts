/**
 * One SSH connection to a build's VM for one file operation: the terminal's login (stored
 * credentials, the pinned host key, ../protocols/ssh/upstream.ts) with an SFTP channel on it, and
 * exec channels for `tar`. Each transfer has its own, so ending one (the window closed, the
 * browser left) ends nothing else, and its one owner closes it once.
 */
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { connectSsh, type SshOpenFailure } from '../protocols/ssh/upstream.js';
import { decideHostKey } from '../protocols/ssh/host-key.js';
import type { Dialer } from '../protocols/dialer.js';
import type { BuildRecord } from '../store/store.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { vmSecretContext, type VmSecretField } from '../domain/vm-secrets.js';
import type { EventSink } from '../audit/events.js';
import { settleOnce } from '../protocols/settle-once.js';

/** After asking sshd to close, give it this long before cutting the socket (as the terminal does). */
const CLOSE_GRACE_MS = 2_000;

export type VmFilesFailure = SshOpenFailure | { readonly kind: 'sftp_unavailable'; readonly detail: string };

/** A command running on the VM: its channel (stdout is the command's) and its exit status. */
export interface VmCommand {
  readonly channel: ClientChannel;
  /** The exit status; null when the channel closed without one (a signal, a lost connection). */
  readonly exitStatus: Promise<number | null>;
}

export interface VmFileSession {
  readonly sftp: SFTPWrapper;
  /** Runs a command (a shell line) on the VM; rejects when `signal` aborts before it starts. */
  exec(command: string, signal: AbortSignal): Promise<VmCommand>;
  /** Idempotent: ends the SFTP channel and the SSH connection. */
  close(): void;
  /** Called once when the connection is gone, whoever closed it. */
  onClosed(listener: () => void): void;
}

export interface VmFileSessionDeps {
  readonly dialer: Dialer;
  readonly secrets: Pick<SecretBox, 'open'>;
  /** Pins a first-seen host key for the build; resolves to the key now pinned (the first writer's). */
  readonly pinHostKey: (build: BuildRecord, fingerprint: string) => Promise<string | null>;
  /** host_key_pinned and host_key_mismatch, as for terminals. */
  readonly events: EventSink;
}

export async function openVmFileSession(deps: VmFileSessionDeps, build: BuildRecord, signal: AbortSignal): Promise<Result<VmFileSession, VmFilesFailure>> {
  const { ssh } = build;
  const login = await connectSsh({
    target: { host: ssh.host, port: ssh.port },
    credentials: {
      username: ssh.username,
      password: openSecret(deps, build, ssh.sealedPassword, 'ssh.password'),
      privateKey: openSecret(deps, build, ssh.sealedPrivateKey, 'ssh.privateKey'),
    },
    dialer: deps.dialer,
    signal,
    verifyHostKey: (fingerprint) => verifyHostKey(deps, build, fingerprint),
  });
  if (!login.ok) return login;
  const { client } = login.value;
  const sftp = await new Promise<Result<SFTPWrapper, VmFilesFailure>>((resolve) => {
    const settle = settleOnce((result: Result<SFTPWrapper, VmFilesFailure>) => {
      signal.removeEventListener('abort', onAbort);
      client.off('close', onClose);
      resolve(result);
    });
    const onAbort = (): void => settle(err({ kind: 'aborted', detail: 'cancelled' }));
    const onClose = (): void => settle(err({ kind: 'unreachable', detail: 'the VM closed the connection' }));
    client.once('close', onClose);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    client.sftp((error, channel) => settle(error ? err({ kind: 'sftp_unavailable', detail: error.message }) : ok(channel)));
  });
  if (!sftp.ok) {
    login.value.destroy();
    return sftp;
  }
  return ok(wrap(client, sftp.value));
}

function wrap(client: Client, sftp: SFTPWrapper): VmFileSession {
  let closed = false;
  let closing = false;
  const listeners: (() => void)[] = [];
  client.once('close', () => {
    closed = true;
    for (const listener of listeners.splice(0)) listener();
  });
  // A hostile or dying sshd can make the channel error; the transfer's own streams report it.
  sftp.on('error', () => undefined);
  return {
    sftp,
    exec: (command, signal) => execOn(client, command, signal),
    close: () => {
      if (closing || closed) return;
      closing = true;
      sftp.end();
      client.end();
      setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
    },
    onClosed: (listener) => {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
}

/** Exported for its test: the exit-status ordering of ssh2 it guards against is timing-dependent. */
export function execOn(client: Pick<Client, 'exec'>, command: string, signal: AbortSignal): Promise<VmCommand> {
  return new Promise((resolve, reject) => {
    const settle = settleOnce((result: Result<VmCommand, Error>) => {
      signal.removeEventListener('abort', onAbort);
      if (result.ok) resolve(result.value);
      else reject(result.error);
    });
    const onAbort = (): void => settle(err(new Error('cancelled')));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    client.exec(command, (error, channel) => {
      if (error) return settle(err(error));
      // Listened for here, in ssh2's callback: a quick command's exit status can arrive in the
      // same read as the exec reply, and is emitted before any awaiting code would run.
      const exitStatus = exitStatusOf(channel);
      settle(ok({ channel, exitStatus }));
    });
  });
}

function exitStatusOf(channel: ClientChannel): Promise<number | null> {
  return new Promise((resolve) => {
    channel.once('exit', (code: unknown) => resolve(typeof code === 'number' ? code : null));
    channel.once('close', () => resolve(null));
    channel.on('error', () => resolve(null));
  });
}

function openSecret(deps: VmFileSessionDeps, build: BuildRecord, sealed: string | null, field: VmSecretField): string | null {
  if (sealed === null) return null;
  const opened = deps.secrets.open(sealed, vmSecretContext(build.id, field));
  if (!opened.ok) throw new Error(`stored ${field} of build ${build.id} cannot be decrypted (${opened.error})`);
  return opened.value;
}

/** The terminal's rule (../protocols/ssh/bridge.ts): the registered key, else the pin, else pin this one. */
async function verifyHostKey(deps: VmFileSessionDeps, build: BuildRecord, fingerprint: string): Promise<boolean> {
  let decision = decideHostKey(build.ssh.hostKey ?? build.ssh.pinnedHostKey, fingerprint);
  if (decision.kind === 'pin') {
    decision = decideHostKey((await deps.pinHostKey(build, fingerprint)) ?? '', fingerprint);
    if (decision.kind === 'accept') deps.events.record({ type: 'host_key_pinned', buildId: build.id, fingerprint });
  }
  if (decision.kind === 'reject') deps.events.record({ type: 'host_key_mismatch', buildId: build.id, expected: decision.expected, presented: fingerprint });
  return decision.kind === 'accept';
}
