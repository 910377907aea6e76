/** A command run on the VM for file transfer (server/src/files/sftp-session.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Client, ClientChannel } from 'ssh2';
import { execOn } from '../../server/src/files/sftp-session.js';

type ExecCallback = (error: Error | undefined, channel: ClientChannel) => void;

/** An ssh2 client whose command has finished by the time the exec reply is read (`then` runs in the same read). */
function clientWhoseCommandEnds(then: (channel: EventEmitter) => void): Pick<Client, 'exec'> {
  return {
    exec: ((_command: string, callback: ExecCallback) => {
      const channel = new EventEmitter();
      callback(undefined, channel as unknown as ClientChannel);
      then(channel);
      return undefined as unknown as Client;
    }) as unknown as Client['exec'],
  };
}

test('an exit status read in the same packet batch as the exec reply is not lost', async () => {
  const ran = await execOn(clientWhoseCommandEnds((channel) => {
    channel.emit('exit', 0);
    channel.emit('close');
  }), 'command -v tar', new AbortController().signal);
  assert.equal(await ran.exitStatus, 0);
});

test('a channel that closes without a status (a signal, a lost connection) reports null', async () => {
  const ran = await execOn(clientWhoseCommandEnds((channel) => channel.emit('close')), 'tar', new AbortController().signal);
  assert.equal(await ran.exitStatus, null);
});

test('an exec the VM never answers gives up when the transfer is aborted', async () => {
  const silent: Pick<Client, 'exec'> = { exec: (() => undefined) as unknown as Client['exec'] };
  const abort = new AbortController();
  const ran = execOn(silent, 'tar', abort.signal);
  abort.abort();
  await assert.rejects(ran, /cancelled/);
  await assert.rejects(execOn(silent, 'tar', abort.signal), /cancelled/, 'already aborted');
});

test('a refused exec rejects with the refusal', async () => {
  const refusing: Pick<Client, 'exec'> = {
    exec: ((_command: string, callback: ExecCallback) => callback(new Error('Unable to exec'), undefined as unknown as ClientChannel)) as unknown as Client['exec'],
  };
  await assert.rejects(execOn(refusing, 'tar', new AbortController().signal), /Unable to exec/);
});
