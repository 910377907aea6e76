/**
 * Who may list, replay and download a build's recordings: the members whose role allows remote
 * access, as for the build's terminal — but after the window too, since replay is what comes
 * after. Recordings are terminal content, so testers are refused and non-members told nothing.
 */
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import { REMOTE_ACCESS_ROLES, type Role } from '../../../shared/src/roles.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { BuildRecord, Store } from '../store/store.js';

export type RecordingRefusal = 'not_found' | 'role_forbidden';

export async function loadRecordingAccess(store: Store, buildId: BuildId, userId: UserId): Promise<Result<{ build: BuildRecord; role: Role }, RecordingRefusal>> {
  const build = await store.getBuild(buildId);
  const role = build ? await store.getRole(build.appId, userId) : null;
  if (!build || role === null) return err('not_found');
  if (!REMOTE_ACCESS_ROLES.has(role)) return err('role_forbidden');
  return ok({ build, role });
}

export const RECORDING_REFUSAL_MESSAGES: Readonly<Record<RecordingRefusal, string>> = Object.freeze({
  not_found: 'No such build.',
  role_forbidden: "Your role on this app can't view session recordings.",
});
