/**
 * The build page's pinned ssh one-liner, run for real: pinned to the registered fingerprint it
 * reaches the real sshd; pinned to another fingerprint it refuses to connect.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { nativeSshCommand } from '../../server/src/domain/native-instructions.js';
import { startSshd, type SshdHandle } from '../helpers/sshd.js';

describe('native ssh command against a real sshd', () => {
  let sshd: SshdHandle;
  let dir: string;
  let keyFile: string;

  before(async () => {
    sshd = await startSshd();
    dir = mkdtempSync(join(tmpdir(), 'porthole-native-'));
    keyFile = join(dir, 'id');
    writeFileSync(keyFile, sshd.keyUser.privateKey ?? '', { mode: 0o600 });
  });
  after(async () => {
    await sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(hostKey: string): { status: number | null; stdout: string; stderr: string } {
    const command = nativeSshCommand({ host: sshd.host, port: sshd.port, username: sshd.keyUser.username, hostKey }).pinnedCommand;
    assert.ok(command, 'a registered fingerprint gives the pinned one-liner');
    // A user would type the password; the test authenticates with the key instead.
    const scripted = `${command.replace(/ssh -p /g, (m, offset: number) => (offset === command.lastIndexOf('ssh -p ') ? `ssh -i ${keyFile} -o BatchMode=yes -p ` : m))} echo pinned-ok`;
    const result = spawnSync('bash', ['-c', scripted], { encoding: 'utf8', timeout: 30_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test('the registered fingerprint connects', () => {
    const result = run(sshd.hostKeyFingerprint);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'pinned-ok');
  });

  test('another fingerprint is refused', () => {
    const result = run('SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Host key verification failed|No .* host key is known/);
    assert.doesNotMatch(result.stdout, /pinned-ok/);
  });
});
