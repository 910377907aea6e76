/**
 * The open window streams of this node (`GET /api/v1/builds/{buildId}/window/events`): pages that
 * follow a build's access window without a JSON channel of their own. The AccessEnforcer, which
 * hears every access change on this node and from the others, tells this registry too, so a
 * stream learns of an Extend, finish or revoke as soon as the terminals do, and ends when its
 * user signs out, loses the app or the node drains.
 */
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import type { Result } from '../../../shared/src/result.js';
import type { Role } from '../../../shared/src/roles.js';

/** Each stream holds a socket for as long as the page is open: a few tabs of build and screen pages, not a runaway script. */
export const MAX_WINDOW_STREAMS_PER_USER = 8;

/** Why a stream ended; the page falls back to polling, which then says what it may still see. */
export const STREAM_SIGNED_OUT_REASON = 'signed out';
export const STREAM_ACCESS_ENDED_REASON = 'access ended';

export interface WindowWatcher {
  readonly userId: UserId;
  readonly appId: AppId;
  readonly buildId: BuildId;
  /** The browser's sign-in (../auth/sign-in-id.ts) that opened the stream. */
  readonly signInId: string;
  /** The user's session epoch when the stream opened. */
  readonly sessionEpoch: string;
  /** The build's window changed: read it again and tell the page. */
  changed(): void;
  /** The stream must end (called at most once, after the watcher is removed). */
  end(reason: string): void;
}

export interface WatcherRegistration {
  /** The stream closed on its own (the page went away); idempotent. */
  remove(): void;
}

export class WindowWatchers {
  readonly #watchers = new Set<WindowWatcher>();

  constructor(readonly perUserLimit: number = MAX_WINDOW_STREAMS_PER_USER) {}

  get size(): number {
    return this.#watchers.size;
  }

  add(watcher: WindowWatcher): Result<WatcherRegistration, 'too_many_window_streams'> {
    if (this.#count((w) => w.userId === watcher.userId) >= this.perUserLimit) return { ok: false, error: 'too_many_window_streams' };
    this.#watchers.add(watcher);
    return { ok: true, value: { remove: () => void this.#watchers.delete(watcher) } };
  }

  windowChanged(buildId: BuildId): void {
    for (const w of this.#watchers) if (w.buildId === buildId) w.changed();
  }

  /**
   * A membership changed. Reading the window needs only membership, so a member keeps the stream;
   * their role decides whether the window offers Extend, so they are told it again.
   */
  membershipChanged(appId: AppId, userId: UserId, role: Role | null): void {
    const theirs = (w: WindowWatcher): boolean => w.userId === userId && w.appId === appId;
    if (role === null) return this.#end(theirs, STREAM_ACCESS_ENDED_REASON);
    for (const w of this.#watchers) if (theirs(w)) w.changed();
  }

  /** The build moved to another app: its members there are asked again by the page's poll. */
  buildMoved(buildId: BuildId, appId: AppId): void {
    this.#end((w) => w.buildId === buildId && w.appId !== appId, STREAM_ACCESS_ENDED_REASON);
  }

  /**
   * The user was removed or their sign-in changed: every session of theirs ended. With
   * `currentEpoch` (reconciliation) only streams opened under an older sign-in end.
   */
  userEnded(userId: UserId, currentEpoch?: string): void {
    this.#end((w) => w.userId === userId && (currentEpoch === undefined || w.sessionEpoch !== currentEpoch), STREAM_ACCESS_ENDED_REASON);
  }

  signedOut(signInId: string): void {
    this.#end((w) => w.signInId === signInId, STREAM_SIGNED_OUT_REASON);
  }

  /** Drain or shutdown: every stream ends; pages reconnect to another node. */
  endAll(reason: string): void {
    this.#end(() => true, reason);
  }

  #count(match: (w: WindowWatcher) => boolean): number {
    let n = 0;
    for (const w of this.#watchers) if (match(w)) n += 1;
    return n;
  }

  #end(match: (w: WindowWatcher) => boolean, reason: string): void {
    const doomed = [...this.#watchers].filter(match);
    for (const w of doomed) {
      this.#watchers.delete(w);
      w.end(reason);
    }
  }
}
