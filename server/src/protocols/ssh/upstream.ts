/**
 * Logs in to a build VM with ssh2 (connectSsh, shared with file transfers) and opens an
 * interactive PTY shell on it (openSshShell). The gateway authenticates itself
 * (password, private key, or keyboard-interactive answered with the password) and verifies the
 * VM's host key; the browser never sees a credential.
 */
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';
import { err, ok, type Result } from '../../../../shared/src/result.js';
import type { Dialer, DialTarget } from '../dialer.js';
import { fingerprintOf } from './host-key.js';
import { settleOnce } from '../settle-once.js';

declare module 'ssh2' {
  /** The session channel options patches/ssh2+1.17.0.patch adds (package.json postinstall applies it). */
  interface ShellOptions {
    /** The receive window granted at open and restored by each window adjust; default 2 MiB. */
    readonly receiveWindow?: number;
    /** What a paused channel buffers before it stops adjusting the window; default the window. */
    readonly readableHighWaterMark?: number;
  }
}

/** Banner, key exchange and authentication over a slow tunnel fit well within this. */
export const SSH_READY_TIMEOUT_MS = 20_000;
/**
 * A keepalive after this much silence notices a stalled tunnel long before TCP would; busy
 * sessions send none (any packet from the VM resets the timer), so idle ones pay one tiny packet.
 */
export const SSH_KEEPALIVE_INTERVAL_MS = 5_000;
/** Three unanswered keepalives and the VM is gone: a dead tunnel ends within about 20 s. */
export const SSH_KEEPALIVE_COUNT_MAX = 3;
/** After asking sshd to close, give it this long before cutting the socket. */
const SSH_CLOSE_GRACE_MS = 2_000;
/**
 * The most a shell's SSH receive window lets the VM send ahead of the gateway's reading. ssh2's
 * own 2 MiB (with its 2 MiB read buffer) let a paused channel bank ~4 MiB (issue #15), all of it
 * still drawn after Ctrl-C. Throughput is at most window ÷ round trip: 256 KiB carries 25 MB/s at
 * 10 ms, more than the page draws (~17 MB/s).
 */
export const SSH_SHELL_WINDOW_MAX_BYTES = 256 * 1024;
/**
 * A paused channel stops granting window at its first unread packet (ssh2's default is to go on
 * until 2 MiB are unread), so all it can bank is the window already granted.
 */
const SSH_SHELL_READ_BUFFER_BYTES = 0;
/** ssh2's maximum packet, as it advertises it to sshd: no output chunk is larger. */
export const SSH_MAX_PACKET_BYTES = 32 * 1024;

export interface SshCredentials {
  readonly username: string;
  readonly password: string | null;
  readonly privateKey: string | null;
}

export interface PtySize {
  readonly cols: number;
  readonly rows: number;
}

export type SshOpenFailure =
  | { readonly kind: 'unreachable'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly detail: string }
  | { readonly kind: 'auth_failed'; readonly detail: string }
  | { readonly kind: 'host_key_rejected'; readonly presented: string }
  | { readonly kind: 'shell_refused'; readonly detail: string }
  | { readonly kind: 'aborted'; readonly detail: string };

export interface SshShell {
  readonly channel: ClientChannel;
  readonly hostKey: string;
  resize(size: PtySize): void;
  /** Idempotent: ends the shell (sshd hangs up its processes) and the TCP connection. */
  close(): void;
  /** Called once when the connection is gone, whoever closed it. `error` when it failed. */
  onClosed(listener: (error: Error | null) => void): void;
}

export interface OpenSshShellOptions extends ConnectSshOptions {
  readonly size: PtySize;
  /** The shell channel's receive window, at most SSH_SHELL_WINDOW_MAX_BYTES: all a paused channel can bank. */
  readonly windowBytes: number;
}

/** What logging in to a VM needs: the same for the terminal and for file transfers. */
export interface ConnectSshOptions {
  readonly target: DialTarget;
  readonly credentials: SshCredentials;
  readonly dialer: Dialer;
  readonly signal: AbortSignal;
  /** Decides whether the presented host key (fingerprint) is acceptable; may pin it. */
  readonly verifyHostKey: (fingerprint: string) => Promise<boolean>;
}

/** An authenticated SSH connection to a VM, not yet carrying any channel. */
export interface SshLogin {
  readonly client: ssh2.Client;
  /** The host key the VM presented (and that was accepted). */
  readonly hostKey: string;
  /** Ends the connection at once; for failures before a caller wraps the client. */
  destroy(): void;
}

/**
 * Dials the VM, verifies its host key and logs in: the one way the gateway authenticates to a
 * VM, shared by the terminal (openSshShell) and file transfers (../../files/sftp-session.ts).
 */
export async function connectSsh(options: ConnectSshOptions): Promise<Result<SshLogin, SshOpenFailure>> {
  const { signal } = options;
  let socket;
  try {
    socket = await options.dialer.dial(options.target, signal);
  } catch (error) {
    return err(signal.aborted ? { kind: 'aborted', detail: 'cancelled' } : { kind: 'unreachable', detail: messageOf(error) });
  }
  socket.setNoDelay(true);

  const client = new ssh2.Client();
  // ssh2 can still emit errors after the outcome is settled (e.g. "Connection lost before
  // handshake" once we destroy it); an unheard 'error' event would crash the gateway.
  client.on('error', () => undefined);
  let presentedHostKey = '';
  let hostKeyRejected = false;
  const config: ConnectConfig = {
    sock: socket,
    username: options.credentials.username,
    readyTimeout: SSH_READY_TIMEOUT_MS,
    keepaliveInterval: SSH_KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: SSH_KEEPALIVE_COUNT_MAX,
    tryKeyboard: options.credentials.password !== null,
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      presentedHostKey = fingerprintOf(key);
      options.verifyHostKey(presentedHostKey).then(
        (accepted) => {
          hostKeyRejected = !accepted;
          verify(accepted);
        },
        () => {
          hostKeyRejected = true;
          verify(false);
        },
      );
    },
    ...(options.credentials.password !== null ? { password: options.credentials.password } : {}),
    ...(options.credentials.privateKey !== null ? { privateKey: options.credentials.privateKey } : {}),
  };
  client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
    finish(prompts.map(() => options.credentials.password ?? ''));
  });

  const ready = await new Promise<Result<null, SshOpenFailure>>((resolve) => {
    const settle = settleOnce((result: Result<null, SshOpenFailure>) => {
      signal.removeEventListener('abort', onAbort);
      client.off('error', onError);
      resolve(result);
    });
    const onAbort = (): void => settle(err({ kind: 'aborted', detail: 'cancelled' }));
    const onError = (error: Error & { level?: string }): void => {
      if (hostKeyRejected) return settle(err({ kind: 'host_key_rejected', presented: presentedHostKey }));
      if (error.level === 'client-authentication') return settle(err({ kind: 'auth_failed', detail: 'the VM refused the login' }));
      if (error.level === 'client-timeout') return settle(err({ kind: 'timeout', detail: 'the VM did not complete the SSH handshake in time' }));
      settle(err({ kind: 'unreachable', detail: messageOf(error) }));
    };
    client.on('error', onError);
    client.once('close', () => settle(err(hostKeyRejected ? { kind: 'host_key_rejected', presented: presentedHostKey } : { kind: 'unreachable', detail: 'the VM closed the connection' })));
    client.once('ready', () => settle(ok(null)));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    client.connect(config);
  });

  const destroy = (): void => {
    client.destroy();
    socket.destroy();
  };
  if (!ready.ok) {
    destroy();
    return ready;
  }
  return ok({ client, hostKey: presentedHostKey, destroy });
}

export async function openSshShell(options: OpenSshShellOptions): Promise<Result<SshShell, SshOpenFailure>> {
  const { signal } = options;
  const login = await connectSsh(options);
  if (!login.ok) return login;
  const { client } = login.value;
  const opened = await new Promise<Result<ClientChannel, SshOpenFailure>>((resolve) => {
    const settle = settleOnce((result: Result<ClientChannel, SshOpenFailure>) => {
      signal.removeEventListener('abort', onAbort);
      client.off('error', onError);
      client.off('close', onClose);
      resolve(result);
    });
    const onAbort = (): void => settle(err({ kind: 'aborted', detail: 'cancelled' }));
    const onError = (error: Error): void => settle(err({ kind: 'unreachable', detail: messageOf(error) }));
    const onClose = (): void => settle(err({ kind: 'unreachable', detail: 'the VM closed the connection' }));
    client.on('error', onError);
    client.once('close', onClose);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const pty = { term: 'xterm-256color', cols: options.size.cols, rows: options.size.rows, width: 0, height: 0 };
    // receiveWindow and readableHighWaterMark come from patches/ssh2+1.17.0.patch.
    client.shell(pty, { receiveWindow: options.windowBytes, readableHighWaterMark: SSH_SHELL_READ_BUFFER_BYTES }, (error, channel) => {
      settle(error ? err({ kind: 'shell_refused', detail: messageOf(error) }) : ok(channel));
    });
  });

  if (!opened.ok) {
    login.value.destroy();
    return opened;
  }
  return ok(wrapShell(client, opened.value, login.value.hostKey));
}

function wrapShell(client: ssh2.Client, channel: ClientChannel, hostKey: string): SshShell {
  const listeners: ((error: Error | null) => void)[] = [];
  let lastError: Error | null = null;
  let closed = false;
  let closing = false;
  let graceTimer: NodeJS.Timeout | null = null;
  client.on('error', (error) => {
    lastError = error;
  });
  client.once('close', () => {
    closed = true;
    if (graceTimer) clearTimeout(graceTimer);
    for (const listener of listeners.splice(0)) listener(lastError);
  });
  const close = (): void => {
    if (closing || closed) return;
    closing = true;
    channel.close();
    client.end();
    graceTimer = setTimeout(() => client.destroy(), SSH_CLOSE_GRACE_MS);
    graceTimer.unref();
  };
  // A hostile sshd can make ssh2's channel streams error (e.g. stderr data after EOF); an unheard
  // 'error' would crash the gateway, so treat it as the end of the shell.
  const onStreamError = (error: Error): void => {
    lastError = error;
    close();
  };
  channel.on('error', onStreamError);
  channel.stderr.on('error', onStreamError);
  return {
    channel,
    hostKey,
    resize(size) {
      if (!closing) channel.setWindow(size.rows, size.cols, 0, 0);
    },
    close,
    onClosed(listener) {
      if (closed) listener(lastError);
      else listeners.push(listener);
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
