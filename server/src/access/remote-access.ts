/**
 * The single authorization rule for remote access (instructions, terminal, screen). Pure, so every
 * route and the WebSocket upgrade ask the same question and the table of answers is unit-tested.
 */
import { REMOTE_ACCESS_ROLES, type Role } from '../../../shared/src/roles.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { isWindowOpen, type AccessWindow } from './access-window.js';

export type RemoteAccessRefusal = 'not_found' | 'role_forbidden' | 'window_closed';

export interface RemoteAccessQuestion {
  /** The user's role on the build's app; null when not a member (or the build is unknown). */
  readonly role: Role | null;
  readonly window: AccessWindow;
  readonly now: Date;
}

/**
 * Order matters: a non-member learns nothing (404, existence not leaked) before anything else; a
 * tester is told about the role before the window, because the window is not theirs to wait for.
 */
export function decideRemoteAccess(q: RemoteAccessQuestion): Result<Role, RemoteAccessRefusal> {
  if (q.role === null) return err('not_found');
  if (!REMOTE_ACCESS_ROLES.has(q.role)) return err('role_forbidden');
  if (!isWindowOpen(q.window, q.now)) return err('window_closed');
  return ok(q.role);
}

export const REFUSAL_MESSAGES: Readonly<Record<RemoteAccessRefusal, string>> = Object.freeze({
  not_found: 'No such build.',
  role_forbidden: "Your role on this app can't use remote access.",
  window_closed: 'The remote access window of this build has closed.',
});
