/**
 * What a user types into a native client. Host, port and usernames were validated when the build
 * was registered (no shell metacharacters), but every value is still shell-quoted: the command is
 * pasted into a shell and must stay inert whatever a registration said.
 */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly hostKey: string | null;
}

export interface NativeSshCommand {
  /** Plain `ssh -p PORT user@host`: what users know; they compare the fingerprint ssh shows. */
  readonly command: string;
  /**
   * The one-liner that checks the fingerprint itself (null without a known fingerprint): offered
   * as the option, since it needs a POSIX shell with ssh-keyscan and reads as noise to most users.
   */
  readonly pinnedCommand: string | null;
}

const SAFE_SHELL_WORD = /^[A-Za-z0-9@%+=:,./_-]+$/;

export function shellQuote(word: string): string {
  return SAFE_SHELL_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** IPv6 literals need brackets in URLs; ssh takes them bare after the last "@". */
function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function nativeSshCommand(target: SshTarget): NativeSshCommand {
  const destination = shellQuote(`${target.username}@${target.host}`);
  const port = String(target.port);
  const command = `ssh -p ${port} ${destination}`;
  if (target.hostKey === null) return { command, pinnedCommand: null };
  // OpenSSH cannot pin a bare fingerprint, so keep only the scanned keys whose fingerprint matches
  // and make that the sole known_hosts file with strict checking: any other key is refused. The loop's
  // exit status is that of its last line, so ssh runs after `;` and reports a mismatch itself.
  const needle = shellQuote(` ${target.hostKey} `);
  const pinnedCommand =
    `f=$(mktemp) && ssh-keyscan -p ${port} ${shellQuote(target.host)} 2>/dev/null | ` +
    `while read -r l; do echo "$l" | ssh-keygen -lf - | grep -qF ${needle} && echo "$l"; done > "$f"; ` +
    `ssh -p ${port} -o UserKnownHostsFile="$f" -o StrictHostKeyChecking=yes ${destination}`;
  return { command, pinnedCommand };
}

export function screenshareAddress(vnc: { readonly host: string; readonly port: number }): string {
  return `vnc://${hostForUrl(vnc.host)}:${vnc.port}`;
}
