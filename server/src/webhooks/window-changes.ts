/**
 * A user's Extend and Release (issue #20) as store changes that carry their webhook event: the
 * build.extended or build.released row is written in the transaction that moves the close time,
 * so the orchestrator hears of exactly the changes that were made. Before the change, what was
 * observed earlier (the sessions that opened on the build) is let into the outbox first, so a
 * build's events keep the order they happened in.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { BuildRecord, Store } from '../store/store.js';
import { newEventId, type WebhookEvent } from './events.js';
import type { OutboxWrite } from './outbox.js';

export interface WindowWebhooks {
  readonly endpoints: readonly string[];
  /** Resolves once what was observed so far is in the outbox (WebhookEmitter.settled). */
  readonly settled: () => Promise<void>;
  /** A change wrote its event: delivery looks now rather than at its next poll. */
  readonly written: () => void;
}

export interface WindowChangeDeps {
  readonly store: Pick<Store, 'extendWindow' | 'narrowWindow'>;
  readonly now: () => Date;
  /** null when webhooks are not configured: the changes alone. */
  readonly webhooks: WindowWebhooks | null;
}

export interface WindowChanges {
  /** Moves the close time from `from` to `to` (../access/extension.ts decided it); null when it is no longer `from`. */
  extend(buildId: BuildId, from: Date, to: Date, by: UserId): Promise<BuildRecord | null>;
  /** Closes the window at `at`; null for an unknown build. */
  release(buildId: BuildId, at: Date, by: UserId): Promise<BuildRecord | null>;
}

function buildExtendedEvent(build: BuildRecord, by: UserId, at: Date): WebhookEvent {
  // Only an extended window reaches here, and an extended window has a close time.
  const closesAt = (build.closesAt ?? at).toISOString();
  return { id: newEventId(), type: 'build.extended', timestamp: at.toISOString(), build: { id: build.id }, app: { id: build.appId }, user: { id: by }, data: { closesAt, by: { id: by } } };
}

function buildReleasedEvent(build: BuildRecord, by: UserId, at: Date): WebhookEvent {
  return { id: newEventId(), type: 'build.released', timestamp: at.toISOString(), build: { id: build.id }, app: { id: build.appId }, user: { id: by }, data: { by: { id: by } } };
}

export function windowChanges(deps: WindowChangeDeps): WindowChanges {
  async function change(event: (build: BuildRecord, at: Date) => WebhookEvent, run: (outbox: OutboxWrite | undefined) => Promise<BuildRecord | null>): Promise<BuildRecord | null> {
    const hooks = deps.webhooks;
    if (hooks === null) return run(undefined);
    await hooks.settled();
    const now = deps.now();
    const changed = await run({ endpoints: hooks.endpoints, now, events: (build) => [event(build, now)] });
    if (changed !== null) hooks.written();
    return changed;
  }
  return {
    extend: (buildId, from, to, by) => change((build, at) => buildExtendedEvent(build, by, at), (outbox) => deps.store.extendWindow(buildId, from, to, outbox)),
    release: (buildId, at, by) => change((build, now) => buildReleasedEvent(build, by, now), (outbox) => deps.store.narrowWindow(buildId, at, outbox)),
  };
}
