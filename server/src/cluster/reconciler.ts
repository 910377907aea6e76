/**
 * Reconciliation: re-reads from the database what this node's live connections depend on (their
 * build's window, app and VM endpoints, the user's role in the app, the user and their session
 * epoch, the sign-in session that opened them) and applies whatever changed. It runs
 * periodically and after every reconnect of the notification connection, so a lost notification
 * delays enforcement by at most one period, never indefinitely.
 */
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { AccessEnforcer } from '../sessions/access-enforcer.js';
import { endpointFingerprints } from '../domain/vm-endpoint.js';

/** How often each node re-checks its live connections against the database. */
export const RECONCILE_INTERVAL_MS = 10_000;

type Enforcer = Pick<AccessEnforcer, 'liveConnections' | 'scheduledClose' | 'windowChanged' | 'membershipChanged' | 'userRemoved' | 'signInChanged' | 'signedOut' | 'buildChanged'>;

export interface ReconcilerDeps {
  readonly store: Store;
  readonly enforcer: Enforcer;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Told after every reconciliation that reached the database. */
  readonly onContact?: () => void;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#timer = setInterval(() => this.request(), RECONCILE_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Runs a reconciliation now, or right after the one in progress. */
  request(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#reconcile()
      .catch((error: unknown) => this.#deps.logger.warn({ event: 'cluster_reconcile_failed', err: error }, 'reconciliation with the database failed'))
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.request();
        }
      });
  }

  /** Resolves when the reconciliation in progress (if any) is done; tests use it. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  dispose(): void {
    clearInterval(this.#timer);
  }

  async #reconcile(): Promise<void> {
    const { store, enforcer } = this.#deps;
    const live = enforcer.liveConnections();
    const builds = new Set<BuildId>();
    const members = new Map<string, { appId: AppId; userId: UserId }>();
    const users = new Set<UserId>();
    const signIns = new Map<string, UserId>();
    for (const c of live) {
      builds.add(c.buildId);
      members.set(`${c.appId}\u0000${c.userId}`, { appId: c.appId, userId: c.userId });
      users.add(c.userId);
      if (c.signInId !== null) signIns.set(c.signInId, c.userId);
    }
    const now = this.#deps.now();
    const [buildRows, roles, userRows, signInRows] = await Promise.all([
      Promise.all([...builds].map(async (id) => ({ id, build: await store.getBuild(id) }))),
      Promise.all([...members.values()].map(async (m) => ({ ...m, role: await store.getRole(m.appId, m.userId) }))),
      Promise.all([...users].map(async (id) => ({ id, user: await store.getUser(id) }))),
      Promise.all([...signIns].map(async ([signInId, userId]) => ({ signInId, live: await store.isSignInLive(signInId, userId, now) }))),
    ]);
    this.#deps.onContact?.();
    for (const { id, build } of buildRows) {
      // A move or a new VM whose notification was lost; a no-op when nothing changed.
      if (build) enforcer.buildChanged(id, { appId: build.appId, endpoints: endpointFingerprints(build) });
      // A build row is never deleted; a missing one means nothing can be trusted about it.
      const closesAt = build ? build.closesAt : this.#deps.now();
      if (closesAt === null) continue;
      const known = enforcer.scheduledClose(id);
      if (known === null || closesAt.getTime() < known.getTime()) enforcer.windowChanged(id, closesAt, 'update');
    }
    for (const { appId, userId, role } of roles) enforcer.membershipChanged(appId, userId, role);
    for (const { id, user } of userRows) {
      if (!user) enforcer.userRemoved(id);
      else if (live.some((c) => c.userId === id && c.sessionEpoch !== user.sessionEpoch)) enforcer.signInChanged(id, user.sessionEpoch);
    }
    for (const { signInId, live: stillSignedIn } of signInRows) if (!stillSignedIn) enforcer.signedOut(signInId);
  }
}
