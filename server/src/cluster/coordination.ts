/**
 * What a node does to stay in step with the others. Alone (SQLite), nothing: its enforcer sees
 * every change. On PostgreSQL, three layers, each covering the one before:
 *   1. LISTEN/NOTIFY: a change made through any node reaches every node within milliseconds;
 *   2. per-node deadline timers (the enforcer's) and reconciliation every 10 s and after every
 *      reconnect, so a lost notification delays enforcement, never cancels it;
 *   3. fail-closed: a node that has not heard from the database for PORTHOLE_FAIL_CLOSED_SECONDS
 *      cannot know whether access was revoked, so it ends its connections (1001: the pages
 *      reconnect, through the load balancer, to a node that can check).
 */
import type pg from 'pg';
import { CloseCode } from '../../../shared/src/protocol/close-codes.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { AccessEnforcer, ConnectionLifecycleObserver } from '../sessions/access-enforcer.js';
import { NO_OTHER_NODES, type RemoteSessionLocator } from '../sessions/session-directory.js';
import { applyChange, publishingChanges, type AccessChanges } from './access-changes.js';
import { localDirectory, PostgresLiveRegistry, type LiveConnectionDirectory } from './live-connections.js';
import { NotificationListener, publishChange } from './pg-notifications.js';
import { Reconciler } from './reconciler.js';

/** How often a node checks whether it has been cut off from the database for too long. */
const FAIL_CLOSED_CHECK_MS = 500;
const MS_PER_SECOND = 1000;

export interface NodeLinks {
  /** Where the control API reports access changes. */
  readonly changes: AccessChanges;
  readonly directory: LiveConnectionDirectory;
}

export interface Coordination {
  /** Given to the enforcer so the live view learns about connections. */
  readonly lifecycle: ConnectionLifecycleObserver | null;
  /** Finds the sessions other nodes hold, for a page resuming one through this node. */
  readonly otherNodes: RemoteSessionLocator;
  /** Starts coordinating this node's enforcer with the others. */
  attach(enforcer: AccessEnforcer): NodeLinks;
  /** Stops listening and timers; this node's live-view rows are removed in the background. */
  stop(): void;
}

export function singleNode(nodeId: string): Coordination {
  return {
    lifecycle: null,
    otherNodes: NO_OTHER_NODES,
    attach: (enforcer) => ({ changes: enforcer, directory: localDirectory(nodeId, enforcer) }),
    stop: () => undefined,
  };
}

export interface PostgresNodeDeps {
  readonly pool: pg.Pool;
  /** For the dedicated notification connection. */
  readonly url: string;
  readonly nodeId: string;
  /** Where the other nodes relay pages resuming this node's sessions; null: they cannot. */
  readonly nodeUrl: string | null;
  readonly failClosedSeconds: number;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
}

export function postgresNode(deps: PostgresNodeDeps): Coordination {
  const registry = new PostgresLiveRegistry(deps.pool, { id: deps.nodeId, url: deps.nodeUrl }, deps.logger);
  const stops: (() => void)[] = [];
  return {
    lifecycle: registry,
    otherNodes: registry,
    attach(enforcer) {
      const reconciler = new Reconciler({ store: deps.store, enforcer, logger: deps.logger, now: deps.now });
      const listener = new NotificationListener({
        url: deps.url,
        nodeId: deps.nodeId,
        logger: deps.logger,
        onChange: (change) => applyChange(enforcer, change),
        onListening: () => reconciler.request(),
      });
      const failClosedMs = deps.failClosedSeconds * MS_PER_SECOND;
      const watchdog = setInterval(() => {
        const silentMs = Date.now() - listener.lastContact;
        if (silentMs <= failClosedMs || enforcer.size === 0) return;
        deps.logger.warn({ event: 'cluster_fail_closed', silentMs, connections: enforcer.size }, 'cut off from the database too long: closing live connections');
        enforcer.endAll(CloseCode.goingAway, 'gateway lost its database');
      }, FAIL_CLOSED_CHECK_MS);
      watchdog.unref();
      stops.push(() => {
        clearInterval(watchdog);
        reconciler.dispose();
        void listener.stop();
      });
      const changes = publishingChanges(enforcer, (change) => {
        publishChange(deps.pool, deps.nodeId, change).catch((error: unknown) =>
          deps.logger.warn({ event: 'cluster_publish_failed', type: change.type, err: error }, 'could not publish an access change; other nodes catch up at their next reconciliation'),
        );
      });
      return { changes, directory: registry };
    },
    stop() {
      for (const stop of stops.splice(0)) stop();
      void registry.dispose();
    },
  };
}
