/**
 * The sessions on this node a page may resume: found by id, and only for the user, build and kind
 * they were opened for, so a resume names no one else's session (a foreign id answers like an
 * unknown one). Sessions add themselves once live and remove themselves when they end.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { AttachMode } from '../../../shared/src/protocol/ssh-v1.js';
import type { WebSocket } from 'ws';
import type { ReadGate } from '../protocols/frames.js';
import type { Admitted } from './admission.js';

/** Session ids are 64 random bits in hex (./live-connection.ts); anything else names no session. */
export const SESSION_ID_PATTERN = /^[0-9a-f]{16}$/;

/** A member watching a session, one entry per user (issue #16). */
export interface WatcherState {
  readonly userId: UserId;
  readonly name: string;
  readonly mode: AttachMode;
}

/** Who is on a session now, as the build page's live-session list shows it (and other nodes read it). */
export interface SessionPairing {
  readonly ownerName: string;
  /** Its page dropped; the session waits for a resume. */
  readonly held: boolean;
  readonly watchers: readonly WatcherState[];
}

export interface ResumableSession {
  readonly id: string;
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  readonly startedAt: Date;
  /**
   * A page resumes the session (the one attached, if any, is closed with 4007). `via`: the node
   * relaying the page, when it reached another one.
   */
  resume(ws: WebSocket, readGate: ReadGate, via: string | null): void;
  /** Another member's page joins it as a watcher, as a connection of its own (issue #16). */
  watch(ws: WebSocket, readGate: ReadGate, admitted: Admitted): void;
  pairing(): SessionPairing;
  /** The owner lets a watcher type or takes it back; false when that user does not watch the session. */
  setWatcherMode(userId: UserId, mode: AttachMode): boolean;
  /** The owner removes a watcher (each of its pages closes with 4008); false when that user does not watch. */
  removeWatcher(userId: UserId): boolean;
}

/** A session held by another node, and where that node takes relayed pages. */
export interface RemoteSession {
  readonly nodeId: string;
  readonly nodeUrl: string;
}

/** A session another node holds, as that node last reported it (../cluster/live-connections.ts). */
export interface RemoteSessionListing extends SessionOwner {
  readonly nodeId: string;
  /** Where that node takes calls from the others (PORTHOLE_NODE_URL); null: it takes none. */
  readonly nodeUrl: string | null;
  readonly sessionId: string;
  readonly startedAt: Date;
  readonly pairing: SessionPairing;
}

/** Finds sessions other nodes hold (through the store they share); alone, a node finds none. */
export interface RemoteSessionLocator {
  locate(id: string, owner: SessionOwner): Promise<RemoteSession | null>;
  /** Any member's session on this build and kind held by another node: what a watcher may join through this one. */
  locateOnBuild(id: string, where: Omit<SessionOwner, 'userId'>): Promise<RemoteSession | null>;
  /** Every session of the build other live nodes hold, oldest first. */
  sessionsOn(buildId: BuildId): Promise<readonly RemoteSessionListing[]>;
}

export const NO_OTHER_NODES: RemoteSessionLocator = {
  locate: () => Promise.resolve(null),
  locateOnBuild: () => Promise.resolve(null),
  sessionsOn: () => Promise.resolve([]),
};

export interface SessionOwner {
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
}

export class SessionDirectory {
  readonly #sessions = new Map<string, ResumableSession>();
  readonly #watchOnly = new Set<string>();

  get size(): number {
    return this.#sessions.size;
  }

  /** `resumable` false: a session pages may watch but not resume (a screen). */
  add(session: ResumableSession, resumable = true): void {
    this.#sessions.set(session.id, session);
    if (!resumable) this.#watchOnly.add(session.id);
  }

  remove(session: ResumableSession): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    this.#watchOnly.delete(session.id);
  }

  /** Any member's session live here on this build and kind: what a watcher may join (its access is checked apart). */
  findOnBuild(id: string, where: Omit<SessionOwner, 'userId'>): ResumableSession | null {
    const session = this.#sessions.get(id);
    return session && session.buildId === where.buildId && session.kind === where.kind ? session : null;
  }

  /** Every session live here on the build, whoever's and of whichever kind. */
  onBuild(buildId: BuildId): readonly ResumableSession[] {
    return [...this.#sessions.values()].filter((session) => session.buildId === buildId);
  }

  /** The session, if it is live here and was opened by this user for this build and kind. */
  find(id: string, owner: SessionOwner): ResumableSession | null {
    const session = this.#sessions.get(id);
    if (!session || this.#watchOnly.has(id) || session.userId !== owner.userId || session.buildId !== owner.buildId || session.kind !== owner.kind) return null;
    return session;
  }
}
