/**
 * Who may list, replay and download a build's recordings: the members whose role allows remote
 * access on the app each recording was made under, as for the build's terminal — but after the
 * window too, since replay is what comes after. A build moved to another app does not take its
 * recordings along: the new app's members never see what was recorded under the old one, and the
 * old app's members keep seeing it. Recordings are terminal content, so testers are refused and
 * non-members told nothing.
 */
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import { REMOTE_ACCESS_ROLES, type Role } from '../../../shared/src/roles.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { BuildRecord, RecordingRecord, Store } from '../store/store.js';

export type RecordingRefusal = 'not_found' | 'role_forbidden';

export interface RecordingAccess {
  readonly build: BuildRecord;
  /** The build's recordings this user may see, newest first. */
  readonly recordings: readonly RecordingRecord[];
}

export async function loadRecordingAccess(store: Store, buildId: BuildId, userId: UserId): Promise<Result<RecordingAccess, RecordingRefusal>> {
  const build = await store.getBuild(buildId);
  if (!build) return err('not_found');
  const roles = new Map<AppId, Role | null>();
  const roleOn = async (appId: AppId): Promise<Role | null> => {
    if (!roles.has(appId)) roles.set(appId, await store.getRole(appId, userId));
    return roles.get(appId) ?? null;
  };
  const visible: RecordingRecord[] = [];
  for (const recording of await store.listRecordings(build.id)) {
    const role = await roleOn(recording.appId);
    if (role !== null && REMOTE_ACCESS_ROLES.has(role)) visible.push(recording);
  }
  if (visible.length > 0) return ok({ build, recordings: visible });
  // Nothing to show: answer as the build's terminal would.
  const current = await roleOn(build.appId);
  if (current === null) return err('not_found');
  if (!REMOTE_ACCESS_ROLES.has(current)) return err('role_forbidden');
  return ok({ build, recordings: [] });
}

export const RECORDING_REFUSAL_MESSAGES: Readonly<Record<RecordingRefusal, string>> = Object.freeze({
  not_found: 'No such build.',
  role_forbidden: "Your role on this app can't view session recordings.",
});
