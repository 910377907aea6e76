/**
 * A fake VM that accepts TCP and never speaks (fault injection): gateway connections to it stay in
 * set-up, live but cheap, so attack tests meet real sessions without thousands of sshd logins.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Tarpit {
  readonly host: string;
  readonly port: number;
  /** Destroys every accepted socket and stops listening. */
  close(): Promise<void>;
}

export async function startTarpit(): Promise<Tarpit> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume(); // reads (and discards) so it notices the gateway hanging up
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
