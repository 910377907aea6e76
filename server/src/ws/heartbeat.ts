/**
 * Detects browsers that vanished without closing (laptop lid, dead Wi-Fi). One timer for all
 * connections: each round pings every socket and terminates those that did not answer the last
 * ping, so a dead client is gone within two intervals.
 */
import type { WebSocket } from 'ws';

/** Below typical proxy idle timeouts (60 s), and two rounds bound detection to 30 s. */
export const PING_INTERVAL_MS = 15_000;

export class Heartbeat {
  readonly #alive = new Map<WebSocket, boolean>();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number = PING_INTERVAL_MS) {
    this.#timer = setInterval(() => this.#round(), intervalMs);
    this.#timer.unref();
  }

  watch(ws: WebSocket): void {
    this.#alive.set(ws, true);
    ws.on('pong', () => this.#alive.set(ws, true));
    ws.once('close', () => this.#alive.delete(ws));
  }

  get size(): number {
    return this.#alive.size;
  }

  dispose(): void {
    clearInterval(this.#timer);
    this.#alive.clear();
  }

  #round(): void {
    for (const [ws, alive] of this.#alive) {
      if (!alive) {
        this.#alive.delete(ws);
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      ws.ping();
    }
  }
}
