/**
 * A TCP relay to put between two real parties and break on demand: `stall()` stops forwarding in
 * both directions while keeping both TCP connections up (a tunnel silently dropping packets),
 * `cut()` resets everything (the VM or the network dying), `refuse()` cuts and resets every new
 * connection too until `accept()` (a network that stays down for a while).
 *
 * The target is read at each new connection, so a caller may fill in its port after starting the
 * relay (a gateway whose public URL must name the relay before the gateway has a port).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpRelay {
  readonly host: string;
  readonly port: number;
  /** Connections currently open on the far side (relay → target). */
  readonly openUpstreams: () => number;
  /** Resolves the next time an upstream connection closes. */
  nextUpstreamClose(): Promise<void>;
  stall(): void;
  cut(): void;
  /** Cuts what is open and resets every new connection until `accept()`. */
  refuse(): void;
  /** Relays new connections again after `refuse()`. */
  accept(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(target: { readonly host: string; readonly port: number }): Promise<TcpRelay> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let stalled = false;
  let refusing = false;
  const closeWaiters: (() => void)[] = [];
  let openUpstreams = 0;
  const server = net.createServer((client) => {
    if (refusing) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
    openUpstreams += 1;
    const pair = { client, upstream };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!stalled) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      client.destroy();
      pairs.delete(pair);
      openUpstreams -= 1;
      for (const waiter of closeWaiters.splice(0)) waiter();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  function cut(): void {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
  }
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    openUpstreams: () => openUpstreams,
    nextUpstreamClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
    stall: () => {
      // Data is read and dropped: both TCP connections stay up and ACK, nothing gets through.
      stalled = true;
    },
    cut,
    refuse: () => {
      refusing = true;
      cut();
    },
    accept: () => {
      refusing = false;
    },
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
