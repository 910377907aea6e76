/**
 * Caps how many live connections one user holds on this node, so a stolen session or a runaway
 * script cannot exhaust the gateway's sockets or the VMs' sshd slots. A slot is taken before the
 * upgrade (and before any dial) and given back exactly once when the connection ends.
 */
import type { UserId } from '../../../shared/src/ids.js';

export type ReleaseSlot = () => void;

export class UserConnectionQuota {
  readonly #live = new Map<UserId, number>();

  constructor(readonly limit: number) {}

  /** A release function, or null when the user already holds `limit` connections. */
  tryAcquire(userId: UserId): ReleaseSlot | null {
    const held = this.#live.get(userId) ?? 0;
    if (held >= this.limit) return null;
    this.#live.set(userId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.#live.get(userId) ?? 1) - 1;
      if (now <= 0) this.#live.delete(userId);
      else this.#live.set(userId, now);
    };
  }

  held(userId: UserId): number {
    return this.#live.get(userId) ?? 0;
  }
}
