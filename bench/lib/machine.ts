/** The facts a reader needs to weigh the figures: CPU, crypto support, versions of every part. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { createRequire } from 'node:module';

export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly aesNi: boolean;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly openssl: string;
  readonly openssh: string;
  readonly ssh2: string;
  /** Whether ssh2's optional native crypto binding is built (it is much faster for AES-GCM). */
  readonly ssh2NativeCrypto: boolean;
  readonly ws: string;
  readonly xterm: string;
  readonly chromium: string;
  readonly xvnc: string;
  readonly websockify: string;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Several tools print their version on stderr, some exit non-zero doing it: take both streams. */
function commandOutput(command: string, args: readonly string[]): string {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  // stdout first: Debian's chromium wrapper prints a shell error on stderr; ssh -V and Xvnc answer on stderr.
  return run.stdout?.trim() || run.stderr?.trim() || 'unknown';
}

function ssh2HasNativeCrypto(): boolean {
  try {
    require('ssh2/lib/protocol/crypto/build/Release/sshcrypto.node');
    return true;
  } catch {
    return false;
  }
}

export function machineFacts(): MachineFacts {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(' ') ?? [];
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    aesNi: flags.includes('aes'),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    openssh: commandOutput('ssh', ['-V']).split(',')[0] ?? 'unknown',
    ssh2: packageVersion('ssh2'),
    ssh2NativeCrypto: ssh2HasNativeCrypto(),
    ws: packageVersion('ws'),
    xterm: packageVersion('@xterm/xterm'),
    chromium: commandOutput('/usr/bin/chromium', ['--version']),
    xvnc: /TigerVNC[^\n]*?\d+\.\d+\.\d+/.exec(commandOutput('/usr/bin/Xvnc', ['-version']))?.[0] ?? 'unknown',
    websockify: commandOutput('dpkg-query', ['-W', '-f=${Version}', 'websockify']),
  };
}
