/**
 * The page's network, between a terminal client and the gateway, in the bench process: it forwards
 * TCP both ways until cut — every connection reset and nothing accepted, as when a laptop loses
 * its Wi-Fi — and accepts again on the same port once restored.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface PageRelay {
  readonly host: string;
  readonly port: number;
  /** Resets every connection through it and stops accepting; resolves once the port is closed. */
  cut(): Promise<void>;
  /** Accepts again on the same port; resolves with the moment it does (performance.now()). */
  restore(): Promise<number>;
  close(): Promise<void>;
}

export async function startPageRelay(target: { readonly host: string; readonly port: number }): Promise<PageRelay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;

  const onConnection = (client: net.Socket): void => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.once('close', () => sockets.delete(socket));
    }
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = (): Promise<number> =>
    new Promise((done, fail) => {
      const next = net.createServer(onConnection);
      next.once('error', fail);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', fail);
        server = next;
        port = (next.address() as AddressInfo).port;
        done(performance.now());
      });
    });

  const stopListening = async (): Promise<void> => {
    const current = server;
    server = null;
    if (current) await new Promise<void>((done) => current.close(() => done()));
  };

  await listen();
  return {
    host: '127.0.0.1',
    port,
    async cut() {
      // RST both ways: neither the page nor the gateway gets a close frame or even a FIN.
      for (const socket of sockets) socket.resetAndDestroy();
      await stopListening();
    },
    restore: () => listen(),
    async close() {
      for (const socket of sockets) socket.destroy();
      await stopListening();
    },
  };
}
