/**
 * Loads a build together with the signed-in user's standing on it, applying the one policy.
 * Unknown builds and builds of other apps look the same to the caller: not found.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import type { Role } from '../../../shared/src/roles.js';
import type { Result } from '../../../shared/src/result.js';
import type { BuildRecord, Store } from '../store/store.js';
import { decideRemoteAccess, type RemoteAccessRefusal } from './remote-access.js';
import type { BuildView, WindowView } from '../../../shared/src/api.js';
import { isWindowOpen } from './access-window.js';
import { decideExtension } from './extension.js';

export interface BuildStanding {
  readonly build: BuildRecord;
  readonly role: Role;
  readonly decision: Result<Role, RemoteAccessRefusal>;
}

export async function loadBuildStanding(store: Store, buildId: BuildId, userId: UserId, now: Date): Promise<BuildStanding | null> {
  const build = await store.getBuild(buildId);
  if (!build) return null;
  const role = await store.getRole(build.appId, userId);
  if (role === null) return null;
  const window = { opensAt: build.startedAt, closesAt: build.closesAt };
  return { build, role, decision: decideRemoteAccess({ role, window, now }) };
}

export function toBuildView(build: BuildRecord): BuildView {
  return {
    id: build.id,
    appId: build.appId,
    stack: build.stack,
    status: build.status,
    window: { opensAt: build.startedAt.toISOString(), closesAt: build.closesAt?.toISOString() ?? null },
    extensions: build.extensions,
  };
}

/**
 * The window as pages count it down: the remaining time is the server's, not the browser's clock.
 * `mayExtend`: the user's role allows extending (a tester sees the window but no Extend).
 */
export function toWindowView(build: BuildRecord, now: Date, graceMinutes: number, mayExtend: boolean): WindowView {
  const { closesAt, startedAt } = build;
  const extension = decideExtension(build, now, graceMinutes);
  // Too early is the one refusal that time alone will lift: pages keep the step to show the button then.
  const extendable = mayExtend && build.extensions !== null && (extension.ok || extension.error === 'extension_too_early');
  return {
    closesAt: closesAt?.toISOString() ?? null,
    remainingMs: closesAt ? Math.max(0, closesAt.getTime() - now.getTime()) : null,
    open: isWindowOpen({ opensAt: startedAt, closesAt }, now),
    extendStepMinutes: extendable && build.extensions ? build.extensions.stepMinutes : null,
    canExtend: mayExtend && extension.ok,
  };
}
