/**
 * Faults only a fake can inject: an SSH server (ssh2's server side, in-process) that breaks the
 * protocol in ways OpenSSH never would. The gateway must survive and close cleanly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, signIn, type World } from '../helpers/seed.js';
import { connectTerminal, mintTicket } from '../helpers/terminal-client.js';

/** SSH_EXTENDED_DATA_STDERR (RFC 4254 §5.2). */
const STDERR_DATA_TYPE = 1;

/** The internals of an ssh2 server channel this fault injection reaches into. */
interface RawChannel {
  readonly outgoing: { readonly id: number };
  readonly _client: { readonly _protocol: { channelExtData(id: number, data: Buffer, type: number): void } };
}

let server: ssh2.Server;
let port: number;
let gw: TestGateway;
let world: World;

before(async () => {
  // ssh2's server reads PEM RSA keys; ed25519 would need the OpenSSH format.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const hostKey = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (acceptPty) => acceptPty());
        session.on('shell', (acceptShell) => {
          const channel = acceptShell();
          channel.write('hostile$ ');
          channel.on('data', () => {
            // EOF, then stderr data anyway — ssh2's own server refuses to, so write the packets
            // through its protocol object. The client's stderr stream then errors (push after EOF).
            channel.eof();
            const raw = channel as unknown as RawChannel;
            raw._client._protocol.channelExtData(raw.outgoing.id, Buffer.from('after eof\n'), STDERR_DATA_TYPE);
            channel.close();
          });
        });
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  gw = await startGateway();
  world = await seedWorld(gw, { ssh: { host: '127.0.0.1', port, username: 'runner', password: 'x', hostKey: null } });
});
after(async () => {
  await gw.close();
  await new Promise<void>((done) => server.close(() => done()));
});

test('a VM that sends stderr after EOF and hangs up: the session ends, the gateway keeps serving', async () => {
  const agent = await signIn(gw, world.users.owner);
  const t = await connectTerminal(await mintTicket(gw, agent, world.builds.linuxRunning), gw);
  await t.waitForOutput(/hostile\$ /);
  t.type('x');
  const closed = await t.closed;
  assert.ok([4004, 4005].includes(closed.code), String(closed.code));
  // Still serving: the process did not die.
  assert.equal((await control(gw).get(`/builds/${world.builds.linuxRunning}`)).status, 200);
});
