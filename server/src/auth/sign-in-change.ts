/**
 * Whether a PUT of a user changes how they sign in, which ends every sign-in session, embed
 * credential, ticket and live connection of theirs. A replayed PUT (the orchestrator retries after
 * timeouts) changes nothing and ends nothing.
 */
import type { UserRecord } from '../store/store.js';
import { emailKey } from '../store/email-key.js';

export interface SignInUpdate {
  readonly email: string;
  /** undefined: not given, so kept. */
  readonly oidcSubject?: string | null;
  /** undefined: no password given, so kept; otherwise whether it is the stored one. */
  readonly passwordIsStored?: boolean;
}

export function changesSignIn(existing: UserRecord | null, update: SignInUpdate): boolean {
  // A new user has a fresh epoch: nothing issued before can match it.
  if (existing === null) return false;
  // The email is what password and single sign-on (by verified email) sign-ins are matched on.
  if (emailKey(existing.email) !== emailKey(update.email)) return true;
  if (update.oidcSubject !== undefined && update.oidcSubject !== existing.oidcSubject) return true;
  return update.passwordIsStored === false;
}
