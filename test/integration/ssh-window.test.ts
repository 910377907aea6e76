/**
 * The shell channel's SSH receive window (issue #15, patches/ssh2+1.17.0.patch): a paused channel
 * under a flood takes in at most the window the gateway opened it with, not ssh2's own ~4 MiB,
 * and reading again lets the flood go on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientChannel } from 'ssh2';
import { tcpDialer } from '../../server/src/protocols/dialer.js';
import { openSshShell, SSH_SHELL_WINDOW_MAX_BYTES, type SshShell } from '../../server/src/protocols/ssh/upstream.js';
import { passwordEndpoint, startSshd, type SshdHandle } from '../helpers/sshd.js';
import { pollUntil } from '../helpers/ports.js';

const WAIT_MS = 20_000;
/** The smallest window the gateway opens (a resumable session at the smallest resume buffer). */
const SMALL_WINDOW_BYTES = 64 * 1024;
/** Output that tells the flood has started: `yes` prints "y" lines. */
const FLOODING = /(?:y\r\n){20}/;

/** ssh2's count of the window it has granted and sshd has not yet used. */
function windowLeft(channel: ClientChannel): number {
  return (channel as unknown as { incoming: { window: number } }).incoming.window;
}

let sshd: SshdHandle;
before(async () => {
  sshd = await startSshd();
});
after(async () => {
  await sshd.stop();
});

async function openShell(windowBytes: number): Promise<SshShell> {
  const endpoint = passwordEndpoint(sshd);
  const result = await openSshShell({
    target: { host: endpoint.host, port: endpoint.port },
    credentials: { username: endpoint.username, password: endpoint.password, privateKey: null },
    size: { cols: 80, rows: 24 },
    windowBytes,
    dialer: tcpDialer,
    signal: new AbortController().signal,
    verifyHostKey: (fingerprint) => Promise.resolve(fingerprint === endpoint.hostKey),
  });
  assert.ok(result.ok, JSON.stringify(result.ok ? null : result.error));
  return result.value;
}

for (const windowBytes of [SSH_SHELL_WINDOW_MAX_BYTES, SMALL_WINDOW_BYTES]) {
  test(`a paused shell channel under a flood takes in at most its ${windowBytes / 1024} KiB window; reading again goes on`, { timeout: 60_000 }, async () => {
    const shell = await openShell(windowBytes);
    try {
      const { channel } = shell;
      let text = '';
      await new Promise<void>((flooding) => {
        const onData = (chunk: Buffer): void => {
          text += chunk.toString('latin1');
          if (!FLOODING.test(text)) return;
          // As the bridge does when it stops reading the VM.
          channel.pause();
          channel.stderr.pause();
          channel.off('data', onData);
          flooding();
        };
        channel.on('data', onData);
        channel.write('exec yes\r');
      });
      // sshd sends while it has window; paused, the channel grants none, so the window runs out.
      await pollUntil('sshd to use up the window', WAIT_MS, async () => windowLeft(channel) === 0);
      const banked = channel.readableLength + channel.stderr.readableLength;
      console.log(`${windowBytes / 1024} KiB window: ${banked} bytes taken in while paused`);
      assert.ok(banked <= windowBytes, `${banked} bytes banked by a paused channel with a ${windowBytes}-byte window`);

      let more = 0;
      const wanted = 4 * windowBytes;
      await new Promise<void>((flowed) => {
        channel.on('data', (chunk: Buffer) => {
          more += chunk.length;
          if (more >= wanted) flowed();
        });
        channel.resume();
        channel.stderr.resume();
      });
      assert.ok(more >= wanted);
    } finally {
      shell.close();
    }
  });
}
