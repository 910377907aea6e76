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
  /** Pinned to the registered host key fingerprint when there is one. */
  readonly command: string;
  /** Plain `ssh -p` for shells the pinned one-liner does not suit; the user checks the prompt. */
  readonly simpleCommand: string;
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
  const simpleCommand = `ssh -p ${port} -o StrictHostKeyChecking=ask ${destination}`;
  if (target.hostKey === null) return { command: simpleCommand, simpleCommand };
  // OpenSSH cannot pin a bare fingerprint, so keep only the scanned keys whose fingerprint matches
  // and make that the sole known_hosts file with strict checking: any other key is refused. The loop's
  // exit status is that of its last line, so ssh runs after `;` and reports a mismatch itself.
  const needle = shellQuote(` ${target.hostKey} `);
  const command =
    `f=$(mktemp) && ssh-keyscan -p ${port} ${shellQuote(target.host)} 2>/dev/null | ` +
    `while read -r l; do echo "$l" | ssh-keygen -lf - | grep -qF ${needle} && echo "$l"; done > "$f"; ` +
    `ssh -p ${port} -o UserKnownHostsFile="$f" -o StrictHostKeyChecking=yes ${destination}`;
  return { command, simpleCommand };
}

export function screenshareAddress(vnc: { readonly host: string; readonly port: number }): string {
  return `vnc://${hostForUrl(vnc.host)}:${vnc.port}`;
}
