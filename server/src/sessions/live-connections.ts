/**
 * Every live terminal and screen connection of this gateway, indexed by build and by user, so a
 * window closing, a revocation or a shutdown can end exactly the right ones at once.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionKind } from '../connections/tickets.js';

export interface LiveConnection {
  readonly id: number;
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  readonly openedAt: Date;
  /** Ends the connection with a close code; idempotent. */
  end(code: number, reason: string): void;
}

export class LiveConnections {
  readonly #all = new Map<number, LiveConnection>();
  #nextId = 1;

  register(connection: Omit<LiveConnection, 'id'>): LiveConnection {
    const live: LiveConnection = { ...connection, id: this.#nextId++ };
    this.#all.set(live.id, live);
    return live;
  }

  unregister(id: number): void {
    this.#all.delete(id);
  }

  get size(): number {
    return this.#all.size;
  }

  countFor(userId: UserId): number {
    let count = 0;
    for (const c of this.#all.values()) if (c.userId === userId) count++;
    return count;
  }

  endWhere(match: (c: LiveConnection) => boolean, code: number, reason: string): number {
    const doomed = [...this.#all.values()].filter(match);
    for (const c of doomed) c.end(code, reason);
    return doomed.length;
  }

  endAll(code: number, reason: string): number {
    return this.endWhere(() => true, code, reason);
  }
}
