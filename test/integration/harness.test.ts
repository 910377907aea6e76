// Exercises the real-daemon test harness itself (sshd, Xvnc, Chromium), so a
// broken environment fails here with a clear message instead of surfacing as
// mysterious gateway test failures.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { Client, type ClientChannel } from 'ssh2';

import { launchChromium } from '../helpers/chromium.js';
import { runCommand } from '../helpers/daemon.js';
import { readBannerOnce } from '../helpers/ports.js';
import { startSshd, type SshdHandle } from '../helpers/sshd.js';
import { startXvnc } from '../helpers/xvnc.js';

/** ssh2 connect + auth + exec on loopback takes well under a second; this only bounds a hang. */
const SSH2_EXEC_TIMEOUT_MS = 20_000;

function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

interface ExecResult {
  readonly stdout: string;
  readonly code: number | null;
}

/**
 * Logs in with a password through the ssh2 client (the library the gateway
 * uses), via the "password" or "keyboard-interactive" method, and runs one command.
 */
async function execWithPassword(
  sshd: SshdHandle,
  username: string,
  password: string,
  command: string,
  method: 'password' | 'keyboard-interactive' = 'password',
): Promise<ExecResult> {
  const client = new Client();
  try {
    return await new Promise<ExecResult>((resolve, reject) => {
      client.once('error', reject);
      client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
        finish(prompts.map(() => password));
      });
      client.once('ready', () => {
        client.exec(command, (err: Error | undefined, channel: ClientChannel) => {
          if (err) {
            reject(err);
            return;
          }
          let stdout = '';
          channel.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
          channel.stderr.on('data', () => {});
          channel.once('exit', (code: number | null) => {
            channel.once('close', () => resolve({ stdout, code }));
          });
        });
      });
      client.connect({
        host: sshd.host,
        port: sshd.port,
        username,
        password,
        tryKeyboard: method === 'keyboard-interactive',
        authHandler: [method],
        readyTimeout: SSH2_EXEC_TIMEOUT_MS,
        // Pins the host key to the one the harness generated, as the gateway will.
        hostVerifier: (key: Buffer) => sha256Fingerprint(key) === sshd.hostKeyFingerprint,
      });
    });
  } finally {
    client.end();
  }
}

async function expectConnectionRefused(host: string, port: number): Promise<void> {
  await assert.rejects(readBannerOnce(host, port), (err: unknown) => {
    assert.ok(err instanceof Error && 'code' in err, `expected a socket error, got ${String(err)}`);
    assert.equal(err.code, 'ECONNREFUSED');
    return true;
  });
}

void test('sshd harness: real OpenSSH with key and password users', async (t) => {
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const diagnostics = (): string => `\n--- sshd log ---\n${sshd.logs()}`;

  await t.test('key user logs in with the OpenSSH client', async (st) => {
    const keyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'porthole-harness-key-'));
    st.after(() => fs.rm(keyDir, { recursive: true, force: true }));
    const keyFile = path.join(keyDir, 'id_ed25519');
    const { privateKey } = sshd.keyUser;
    assert.ok(privateKey !== undefined);
    // ssh refuses private key files readable by others.
    await fs.writeFile(keyFile, privateKey, { mode: 0o600 });

    const { stdout } = await runCommand('ssh', [
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'LogLevel=ERROR',
      '-i', keyFile,
      '-p', String(sshd.port),
      `${sshd.keyUser.username}@${sshd.host}`,
      'echo ok',
    ]).catch((err: unknown) => {
      throw new Error(`${String(err)}${diagnostics()}`);
    });
    assert.equal(stdout.toString('utf8').trim(), 'ok');
  });

  await t.test('ssh-keyscan fingerprint matches hostKeyFingerprint', async () => {
    assert.match(sshd.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.match(sshd.hostPublicKey, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
    const scan = await runCommand('ssh-keyscan', ['-t', 'ed25519', '-p', String(sshd.port), sshd.host]);
    const scanned = scan.stdout.toString('utf8');
    assert.ok(scanned.includes(sshd.hostPublicKey), `keyscan output:\n${scanned}`);
    const { stdout } = await runCommand('ssh-keygen', ['-l', '-f', '-'], { input: scanned });
    assert.equal(stdout.toString('utf8').trim().split(/\s+/)[1], sshd.hostKeyFingerprint);
  });

  await t.test('password user logs in through ssh2', async () => {
    const user = sshd.passwordUser;
    assert.ok(user?.password !== undefined, 'system-users mode must provide a password user');
    assert.equal(user.password.length, 32);
    const result = await execWithPassword(sshd, user.username, user.password, 'id -un').catch((err: unknown) => {
      throw new Error(`${String(err)}${diagnostics()}`);
    });
    assert.deepEqual(result, { stdout: `${user.username}\n`, code: 0 });
  });

  await t.test('a wrong password is rejected', async () => {
    const user = sshd.passwordUser;
    assert.ok(user !== null);
    await assert.rejects(execWithPassword(sshd, user.username, 'definitely-not-the-password', 'true'), /authentication/i);
  });

  await t.test('stop() frees the port and is idempotent', async () => {
    await sshd.stop();
    await sshd.stop();
    await expectConnectionRefused(sshd.host, sshd.port);
  });
});

void test('sshd harness: keyboard-interactive through PAM', async (t) => {
  const sshd = await startSshd({ keyboardInteractive: true });
  t.after(() => sshd.stop());
  const user = sshd.passwordUser;
  assert.ok(user?.password !== undefined);
  const result = await execWithPassword(sshd, user.username, user.password, 'id -un', 'keyboard-interactive').catch(
    (err: unknown) => {
      throw new Error(`${String(err)}\n--- sshd log ---\n${sshd.logs()}`);
    },
  );
  assert.deepEqual(result, { stdout: `${user.username}\n`, code: 0 });
  assert.match(sshd.logs(), /Accepted keyboard-interactive\/pam for porthole-pw/);
});

void test('Xvnc harness: real TigerVNC with a terminal window', async (t) => {
  const xvnc = await startXvnc({ terminalWindow: true, width: 1024, height: 768, background: '#336699' });
  t.after(() => xvnc.stop());

  assert.equal(xvnc.host, '127.0.0.1');
  assert.ok(xvnc.display >= 0);
  assert.ok(xvnc.password.length >= 1 && xvnc.password.length <= 8);
  assert.equal(xvnc.background, '#336699');
  assert.ok(xvnc.terminal !== null, 'terminal window geometry missing');
  assert.deepEqual([xvnc.terminal.x, xvnc.terminal.y], [40, 40]);
  assert.ok(xvnc.terminal.x + xvnc.terminal.width <= xvnc.width);
  assert.ok(xvnc.terminal.y + xvnc.terminal.height <= xvnc.height);

  const banner = await readBannerOnce(xvnc.host, xvnc.port);
  assert.match(banner, /^RFB 003\.\d{3}$/, xvnc.logs());

  // Listens on IPv4 loopback only; [::1] must refuse (or be unavailable entirely).
  await assert.rejects(readBannerOnce('::1', xvnc.port));

  await xvnc.stop();
  await xvnc.stop();
  await expectConnectionRefused(xvnc.host, xvnc.port);
});

void test('Chromium harness: headless Debian Chromium via playwright-core', async (t) => {
  const browser = await launchChromium();
  t.after(() => browser.close());

  const page = await browser.newPage();
  const html = '<!doctype html><title>porthole harness</title><p id="x">hello</p>';
  await page.goto(`data:text/html,${encodeURIComponent(html)}`);
  assert.equal(await page.title(), 'porthole harness');
  assert.equal(await page.locator('#x').textContent(), 'hello');
  assert.equal(await page.evaluate(() => navigator.webdriver), true);
});
