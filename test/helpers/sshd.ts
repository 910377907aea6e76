import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { CommandError, ProcessExitedError, registerTempDir, runCommand, spawnManaged, type ManagedProcess } from './daemon.js';
import { freePort, waitForBanner } from './ports.js';

export interface SshUserCredentials {
  readonly username: string;
  readonly password?: string;
  /** OpenSSH private key text. */
  readonly privateKey?: string;
  readonly publicKey?: string;
}

export interface SshdHandle {
  readonly host: string;
  readonly port: number;
  /** "SHA256:<base64 without padding>" exactly as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  /** "ssh-ed25519 AAAA..." */
  readonly hostPublicKey: string;
  /** null in current-user mode. */
  readonly passwordUser: SshUserCredentials | null;
  readonly keyUser: SshUserCredentials;
  /** sshd stderr so far, for debugging failures. */
  readonly logs: () => string;
  /** Idempotent; kills sshd (and waits for exit), removes the temp dir. */
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  readonly mode?: 'system-users' | 'current-user';
  readonly keyboardInteractive?: boolean;
  /** false leaves keyboard-interactive as the only way in for the password user. */
  readonly passwordAuthentication?: boolean;
  /**
   * Extra sshd_config lines (benchmarks raise MaxStartups, MaxSessions, pin Ciphers). They go
   * first: sshd keeps the first value it reads for a keyword, so they override the defaults below.
   */
  readonly extraConfig?: readonly string[];
  /**
   * The address sshd listens on. Containers reach the host only through the docker bridge's own
   * address (test/image/), which is still not a public interface.
   */
  readonly host?: string;
}

const DEFAULT_HOST = '127.0.0.1';
const SSHD_PATH = '/usr/sbin/sshd';
const SSH_KEYGEN_PATH = '/usr/bin/ssh-keygen';
export const PASSWORD_USER = 'porthole-pw';
export const KEY_USER = 'porthole-key';

/** sshd normally answers within ~50 ms; generous because CI VMs can be heavily loaded. */
const SSHD_READY_TIMEOUT_MS = 15_000;
/** freePort() can lose a race to another process; a couple of fresh ports practically always suffices. */
const SSHD_BIND_ATTEMPTS = 4;
/** sshd exits on SIGTERM immediately; past this it is wedged and gets SIGKILL. */
const SSHD_STOP_GRACE_MS = 3_000;
/** 24 random bytes encode to exactly 32 base64url characters. */
const PASSWORD_RANDOM_BYTES = 24;
/** useradd/usermod/chpasswd fail fast when another test file holds the passwd lock; keep retrying this long. */
const ACCOUNT_SETUP_TIMEOUT_MS = 30_000;
/** Backoff between retries of account setup commands that lost the /etc/passwd lock. */
const ACCOUNT_SETUP_RETRY_DELAY_MS = 50;
/** The cross-process password lock is held for about one chpasswd; waiting longer means something is wedged. */
const PASSWORD_LOCK_TIMEOUT_MS = 30_000;

/**
 * Root-only directory coordinating the porthole-pw password between test
 * processes running concurrently (node --test runs files in parallel). The
 * account is global, so a fresh password per start would silently break a
 * concurrently running sshd harness that handed out the previous one.
 */
const PASSWORD_STATE_DIR = '/run/porthole-test-sshd';
/** OpenSSH privilege separation directory; sshd refuses to start as root without it. */
const PRIVSEP_DIR = '/run/sshd';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function errorCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means the process exists but belongs to someone else.
    return errorCode(err) === 'EPERM';
  }
}

// --- system accounts --------------------------------------------------------

async function commandSucceeds(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await runCommand(command, args);
    return true;
  } catch (err) {
    if (err instanceof CommandError) return false;
    throw err;
  }
}

/**
 * Re-checks the desired state after every failed attempt instead of parsing
 * exit codes: whether a concurrent test process created the account first
 * ("already exists") or merely held the passwd lock ("try again later"), the
 * state check tells us whether we are done.
 */
async function converge(what: string, isDone: () => Promise<boolean>, act: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + ACCOUNT_SETUP_TIMEOUT_MS;
  let lastError: unknown = null;
  for (;;) {
    if (await isDone()) return;
    try {
      await act();
    } catch (err) {
      lastError = err;
    }
    if (await isDone()) return;
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`could not ${what} within ${ACCOUNT_SETUP_TIMEOUT_MS} ms${detail}`);
    }
    await sleep(ACCOUNT_SETUP_RETRY_DELAY_MS + Math.random() * ACCOUNT_SETUP_RETRY_DELAY_MS);
  }
}

async function ensureAccount(username: string): Promise<void> {
  await converge(
    `create account ${username}`,
    async () => await commandSucceeds('getent', ['passwd', username]),
    async () => await runCommand('useradd', ['-m', '-s', '/bin/bash', username]),
  );
}

async function shadowPasswordField(username: string): Promise<string> {
  const { stdout } = await runCommand('getent', ['shadow', username]);
  return stdout.toString('utf8').split(':')[1] ?? '';
}

/**
 * useradd leaves the password field as "!", which sshd (with UsePAM no)
 * treats as a locked account and then refuses even public-key logins.
 */
async function ensureNotLocked(username: string): Promise<void> {
  if ((await shadowPasswordField(username)).startsWith('!')) await disablePassword(username);
}

/** "*" can never match a password hash, yet (unlike "!") does not mark the account locked. */
async function disablePassword(username: string): Promise<void> {
  await converge(
    `disable password of ${username}`,
    async () => (await shadowPasswordField(username)) === '*',
    async () => await runCommand('usermod', ['-p', '*', username]),
  );
}

async function setPassword(username: string, password: string): Promise<void> {
  const input = `${username}:${password}\n`;
  let applied = false;
  await converge(
    `set password of ${username}`,
    async () => applied,
    async () => {
      await runCommand('chpasswd', [], { input });
      applied = true;
    },
  );
}

// --- shared password lease ----------------------------------------------------

/**
 * Runs fn while holding an flock(2) on the state directory's lock file. The
 * lock is held by a tiny `flock` child whose stdin we keep open: the kernel
 * drops the lock when that child exits, and it exits as soon as our end of
 * the pipe closes, so a test process killed mid-section cannot leave a stale
 * lock behind (which a pid-in-a-lock-file scheme cannot guarantee).
 */
async function withStateLock<T>(fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(PASSWORD_STATE_DIR, { recursive: true, mode: 0o700 });
  const lockPath = path.join(PASSWORD_STATE_DIR, 'lock');
  const holder = spawn(
    'flock',
    ['--exclusive', '--wait', String(PASSWORD_LOCK_TIMEOUT_MS / 1000), lockPath, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const holderExited = new Promise<void>((resolve) => holder.once('close', () => resolve()));
  let stderr = '';
  holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  holder.stdin.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      holder.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('locked\n')) resolve();
      });
      holder.once('error', reject);
      holder.once('close', (code) => {
        reject(new Error(`flock on ${lockPath} failed (exit ${String(code)}, wait limit ${PASSWORD_LOCK_TIMEOUT_MS} ms): ${stderr.trim()}`));
      });
    });
    return await fn();
  } finally {
    holder.stdin.end();
    await holderExited;
  }
}

interface PasswordLease {
  readonly password: string;
  release(): Promise<void>;
}

function leasePid(name: string, leasePrefix: string): number {
  return Number.parseInt(name.slice(leasePrefix.length).split('-')[0] ?? '', 10);
}

/** Deletes leases whose process has died and reports whether any live lease remains. */
async function pruneLeases(leasePrefix: string): Promise<boolean> {
  let anyAlive = false;
  for (const name of await fs.readdir(PASSWORD_STATE_DIR)) {
    if (!name.startsWith(leasePrefix)) continue;
    const pid = leasePid(name, leasePrefix);
    if (Number.isInteger(pid) && pidAlive(pid)) anyAlive = true;
    else await fs.rm(path.join(PASSWORD_STATE_DIR, name), { force: true });
  }
  return anyAlive;
}

/**
 * Returns a fresh random password, set on the account now, unless another
 * live harness (in any process) still holds a lease on the current one, in
 * which case that password is shared so neither harness breaks the other.
 * Releasing the last lease disables password login again, so the account does
 * not stay reachable with a password the machine's own sshd might accept.
 */
async function leasePassword(username: string): Promise<PasswordLease> {
  const passwordPath = path.join(PASSWORD_STATE_DIR, `${username}.password`);
  const leasePrefix = `${username}.lease-`;
  return await withStateLock(async () => {
    const othersAlive = await pruneLeases(leasePrefix);
    let password = othersAlive ? await fs.readFile(passwordPath, 'utf8').catch(() => '') : '';
    if (password === '') {
      password = crypto.randomBytes(PASSWORD_RANDOM_BYTES).toString('base64url');
      await setPassword(username, password);
      await fs.writeFile(passwordPath, password, { mode: 0o600 });
    }
    const leasePath = path.join(PASSWORD_STATE_DIR, `${leasePrefix}${process.pid}-${crypto.randomUUID()}`);
    await fs.writeFile(leasePath, '', { mode: 0o600 });
    return {
      password,
      release: async () => {
        await withStateLock(async () => {
          await fs.rm(leasePath, { force: true });
          if (await pruneLeases(leasePrefix)) return;
          await fs.rm(passwordPath, { force: true });
          await disablePassword(username);
        });
      },
    };
  });
}

// --- keys and config ----------------------------------------------------------

async function generateKeyPair(file: string, comment: string): Promise<{ privateKey: string; publicKey: string }> {
  await runCommand(SSH_KEYGEN_PATH, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  const privateKey = await fs.readFile(file, 'utf8');
  const publicKey = (await fs.readFile(`${file}.pub`, 'utf8')).trim();
  return { privateKey, publicKey };
}

async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await runCommand(SSH_KEYGEN_PATH, ['-l', '-f', publicKeyFile]);
  // "256 SHA256:abc... comment (ED25519)"
  const fingerprint = stdout.toString('utf8').trim().split(/\s+/)[1];
  if (fingerprint?.startsWith('SHA256:') !== true) {
    throw new Error(`unexpected ssh-keygen -l output: ${stdout.toString('utf8')}`);
  }
  return fingerprint;
}

interface ConfigParams {
  readonly host: string;
  readonly port: number;
  readonly tmp: string;
  readonly hostKeyPath: string;
  readonly allowUsers: readonly string[];
  readonly usePam: boolean;
  readonly passwordAuth: boolean;
  readonly keyboardInteractive: boolean;
  readonly permitRootLogin: 'no' | 'prohibit-password';
  readonly extraConfig: readonly string[];
}

function renderConfig(p: ConfigParams): string {
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  return [
    ...p.extraConfig,
    `Port ${p.port}`,
    `ListenAddress ${p.host}`,
    `HostKey ${p.hostKeyPath}`,
    `PidFile ${path.join(p.tmp, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(p.tmp, 'authorized_keys')}/%u`,
    'StrictModes no',
    `UsePAM ${yesNo(p.usePam)}`,
    `PermitRootLogin ${p.permitRootLogin}`,
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${yesNo(p.passwordAuth)}`,
    `KbdInteractiveAuthentication ${yesNo(p.keyboardInteractive)}`,
    // Password auth is on, so never let the harness open logins to other local accounts.
    `AllowUsers ${p.allowUsers.join(' ')}`,
    'Subsystem sftp internal-sftp',
    'UseDNS no',
    // Load tests open many connections at once; the default 10:30:100 drops them.
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    'PrintMotd no',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

// --- startup ----------------------------------------------------------------

class BindRaceError extends Error {}

const BIND_FAILURE_PATTERN = /Address already in use|Cannot bind any address/i;

async function waitUntilReady(proc: ManagedProcess, host: string, port: number): Promise<void> {
  // sshd logs this right after bind(); waiting for it first means a banner
  // can only come from our sshd, not from whoever won a race for the port.
  try {
    await proc.waitForLog(`Server listening on ${host} port ${port}`, SSHD_READY_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof ProcessExitedError && BIND_FAILURE_PATTERN.test(err.output)) {
      throw new BindRaceError(err.message);
    }
    throw err;
  }
  const abort = new AbortController();
  const banner = waitForBanner(host, port, 'SSH-2.0-', SSHD_READY_TIMEOUT_MS, abort.signal);
  banner.catch(() => {});
  const outcome = await Promise.race([banner.then(() => 'ready' as const), proc.exited]).finally(() => {
    abort.abort();
  });
  if (outcome !== 'ready') {
    throw new ProcessExitedError('sshd', outcome, proc.logs());
  }
}

async function spawnOnFreePort(
  params: Omit<ConfigParams, 'port'>,
  configPath: string,
): Promise<{ proc: ManagedProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(params.host);
    await fs.writeFile(configPath, renderConfig({ ...params, port }), { mode: 0o600 });
    // -D: stay in the foreground so we own the process; -e: log to stderr for logs().
    const proc = spawnManaged(SSHD_PATH, ['-D', '-e', '-f', configPath], { cwd: params.tmp });
    try {
      await waitUntilReady(proc, params.host, port);
      return { proc, port };
    } catch (err) {
      await proc.stop(SSHD_STOP_GRACE_MS);
      if (err instanceof BindRaceError && attempt < SSHD_BIND_ATTEMPTS) continue;
      throw err;
    }
  }
}

export async function startSshd(options: StartSshdOptions = {}): Promise<SshdHandle> {
  const mode = options.mode ?? 'system-users';
  const keyboardInteractive = options.keyboardInteractive ?? false;
  const root = isRoot();

  if (mode === 'system-users' && !root) {
    throw new Error(
      'startSshd({ mode: "system-users" }) needs root: it creates the local accounts ' +
        `${PASSWORD_USER}/${KEY_USER} and sets a password. Run the tests as root (e.g. in the CI container, ` +
        'or `sudo -E node --import tsx --test ...`), or use startSshd({ mode: "current-user" }) for key-only login as yourself.',
    );
  }
  if (keyboardInteractive && !root) {
    // Without PAM, OpenSSH on Linux has no keyboard-interactive device, and PAM
    // password checks for other users need root.
    throw new Error('startSshd({ keyboardInteractive: true }) needs root (it runs sshd with UsePAM yes)');
  }
  if (mode === 'current-user' && keyboardInteractive) {
    throw new Error('startSshd: keyboardInteractive is only supported in system-users mode');
  }

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'porthole-sshd-'));
  const releaseTmp = registerTempDir(tmp);
  let lease: PasswordLease | null = null;
  try {
    // sshd reads authorized_keys as the target user, who must be able to
    // traverse this directory; 0711 still keeps the listing and keys private.
    await fs.chmod(tmp, 0o711);
    if (root) await fs.mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });

    const hostKeyPath = path.join(tmp, 'ssh_host_ed25519_key');
    await runCommand(SSH_KEYGEN_PATH, ['-q', '-t', 'ed25519', '-N', '', '-C', 'porthole-test-host', '-f', hostKeyPath]);
    const hostKeyFingerprint = await fingerprintOf(`${hostKeyPath}.pub`);
    const hostPublicKey = (await fs.readFile(`${hostKeyPath}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');

    const authorizedKeysDir = path.join(tmp, 'authorized_keys');
    await fs.mkdir(authorizedKeysDir, { mode: 0o755 });

    let passwordUser: SshUserCredentials | null = null;
    let keyUsername: string;
    if (mode === 'system-users') {
      await ensureAccount(PASSWORD_USER);
      await ensureAccount(KEY_USER);
      await ensureNotLocked(KEY_USER);
      lease = await leasePassword(PASSWORD_USER);
      passwordUser = { username: PASSWORD_USER, password: lease.password };
      keyUsername = KEY_USER;
    } else {
      keyUsername = os.userInfo().username;
    }

    const userKeyPath = path.join(tmp, 'user_ed25519');
    const userKeys = await generateKeyPair(userKeyPath, `${keyUsername}@porthole-test`);
    await fs.writeFile(path.join(authorizedKeysDir, keyUsername), `${userKeys.publicKey}\n`, { mode: 0o644 });
    const keyUser: SshUserCredentials = { username: keyUsername, ...userKeys };

    const configParams: Omit<ConfigParams, 'port'> = {
      host: options.host ?? DEFAULT_HOST,
      tmp,
      hostKeyPath,
      allowUsers: mode === 'system-users' ? [PASSWORD_USER, KEY_USER] : [keyUsername],
      usePam: keyboardInteractive,
      passwordAuth: mode === 'system-users' && (options.passwordAuthentication ?? true),
      keyboardInteractive,
      // current-user mode run as root would otherwise be unable to log in at all.
      permitRootLogin: mode === 'current-user' && root ? 'prohibit-password' : 'no',
      extraConfig: options.extraConfig ?? [],
    };

    const { proc: running, port } = await spawnOnFreePort(configParams, path.join(tmp, 'sshd_config'));
    const heldLease = lease;
    let stopping: Promise<void> | null = null;
    return {
      host: configParams.host,
      port,
      hostKeyFingerprint,
      hostPublicKey,
      passwordUser,
      keyUser,
      logs: () => running.logs(),
      stop: () => {
        stopping ??= (async () => {
          await running.stop(SSHD_STOP_GRACE_MS);
          await heldLease?.release();
          await fs.rm(tmp, { recursive: true, force: true });
          releaseTmp();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await lease?.release();
    await fs.rm(tmp, { recursive: true, force: true });
    releaseTmp();
    throw err;
  }
}

/** The password user's endpoint as a build registers it, host key pinned. Needs system-users mode. */
export function passwordEndpoint(sshd: SshdHandle): { host: string; port: number; username: string; password: string; hostKey: string } {
  const user = sshd.passwordUser;
  if (!user?.password) throw new Error('this sshd has no password user (start it in system-users mode, as root)');
  return { host: sshd.host, port: sshd.port, username: user.username, password: user.password, hostKey: sshd.hostKeyFingerprint };
}
