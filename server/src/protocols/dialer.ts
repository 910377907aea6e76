/**
 * The only way the gateway opens a connection to a VM. Adapters receive the target from the
 * store (never from a browser) and dial through this interface, so tests can count and refuse dials.
 */
import net from 'node:net';

export interface DialTarget {
  readonly host: string;
  readonly port: number;
}

export interface DialOptions {
  /** Reads into the caller's buffers (./pooled-reads.ts) instead of a fresh one per read; no 'data' events then. */
  readonly onread?: net.OnReadOpts;
}

export interface Dialer {
  dial(target: DialTarget, signal: AbortSignal, options?: DialOptions): Promise<net.Socket>;
}

/** A tunnel that does not answer SYN in this long is down, not slow. */
export const TCP_CONNECT_TIMEOUT_MS = 10_000;
/** Lets the kernel notice a vanished peer on an otherwise silent connection. */
const TCP_KEEPALIVE_INITIAL_DELAY_MS = 15_000;

export const tcpDialer: Dialer = {
  dial(target, signal, options = {}) {
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({
        host: target.host,
        port: target.port,
        noDelay: true,
        keepAlive: true,
        keepAliveInitialDelay: TCP_KEEPALIVE_INITIAL_DELAY_MS,
        ...(options.onread ? { onread: options.onread } : {}),
      });
      let settled = false;
      const settle = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        if (error) {
          socket.destroy();
          reject(error);
        } else {
          resolve(socket);
        }
      };
      const onConnect = (): void => settle(null);
      const onError = (error: Error): void => settle(error);
      const onAbort = (): void => settle(new Error('dial aborted'));
      const timer = setTimeout(() => settle(new Error(`connect timed out after ${TCP_CONNECT_TIMEOUT_MS} ms`)), TCP_CONNECT_TIMEOUT_MS);
      socket.once('connect', onConnect);
      socket.once('error', onError);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  },
};
