/**
 * A user's session epoch: a random value stored with the user and in each of their sign-in
 * sessions and bearer tokens. A session or token is good only while its epoch is the user's
 * current one, so rolling the epoch ends them all at once. Random rather than a counter: a user
 * deleted and registered again under the same id must not match anything issued to the first.
 */
import { randomBytes } from 'node:crypto';

/** 128 bits: two epochs of one id never collide. */
const SESSION_EPOCH_BYTES = 16;

/** Whether a session or token issued under `epoch` still speaks for the user (null: deleted). */
export function holdsCurrentEpoch(user: { readonly sessionEpoch: string } | null, epoch: string): boolean {
  return user !== null && user.sessionEpoch === epoch;
}

export function newSessionEpoch(): string {
  return randomBytes(SESSION_EPOCH_BYTES).toString('base64url');
}
