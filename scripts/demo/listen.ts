import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The demo serves loopback only: its users, passwords and VM are for this machine. */
export const DEMO_HOST = '127.0.0.1';

/**
 * Listens before anything is configured, so that `0` (a free port) works: the gateway's public URL
 * and its allowed embedding origin need the ports actually bound. `setting` names the variable
 * that picks another port.
 */
export async function listenOnLoopback(server: Server, port: number, setting: string): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use: run with ${setting}=<another port, or 0 for any free one> npm run demo`) : error),
    );
    server.listen(port, DEMO_HOST, done);
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
}
