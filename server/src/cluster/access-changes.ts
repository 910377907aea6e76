/**
 * Access changes (window narrowed or closed, membership changed, user removed, sign-in changed,
 * a browser signed out, build moved to another app or to another VM) as the control API and the
 * sign-in routes report them: applied to this node's live connections at once and, with several nodes,
 * published for the others (./pg-notifications.ts). The database already holds the change when
 * this runs, so a lost publication only delays the other nodes until their next reconciliation.
 */
import { z } from 'zod';
import type { AppId, BuildId, UserId } from '../../../shared/src/ids.js';
import { ROLES, type Role } from '../../../shared/src/roles.js';
import { CLOSE_REASON_MAX_BYTES } from '../protocols/frames.js';
import type { AccessEnforcer, BuildPlacement, WindowCause } from '../sessions/access-enforcer.js';

export type { WindowCause } from '../sessions/access-enforcer.js';

/** What the control API tells about access; AccessEnforcer implements it for one node. */
export type AccessChanges = Pick<AccessEnforcer, 'windowChanged' | 'membershipChanged' | 'userRemoved' | 'signInChanged' | 'signedOut' | 'buildChanged'>;

export type AccessChange =
  | { readonly type: 'window'; readonly buildId: BuildId; readonly closesAt: Date | null; readonly cause: WindowCause; readonly reason?: string }
  | { readonly type: 'membership'; readonly appId: AppId; readonly userId: UserId; readonly role: Role | null }
  | { readonly type: 'user_removed'; readonly userId: UserId }
  | { readonly type: 'sign_in_changed'; readonly userId: UserId }
  | { readonly type: 'signed_out'; readonly signInId: string }
  | { readonly type: 'build'; readonly buildId: BuildId; readonly placement: BuildPlacement };

/** The wire form: ids are validated ids already; times are epoch milliseconds. */
const changeMessage = z.object({
  node: z.string(),
  change: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('window'),
      buildId: z.string(),
      closesAt: z.number().nullable(),
      cause: z.enum(['finish', 'revoke', 'update', 'extend', 'release']),
      reason: z.string().max(CLOSE_REASON_MAX_BYTES).optional(),
    }),
    z.object({ type: z.literal('membership'), appId: z.string(), userId: z.string(), role: z.enum(ROLES).nullable() }),
    z.object({ type: z.literal('user_removed'), userId: z.string() }),
    z.object({ type: z.literal('sign_in_changed'), userId: z.string() }),
    z.object({ type: z.literal('signed_out'), signInId: z.string() }),
    z.object({
      type: z.literal('build'),
      buildId: z.string(),
      placement: z.object({ appId: z.string(), endpoints: z.object({ ssh: z.string().nullable(), vnc: z.string().nullable() }) }),
    }),
  ]),
});

export function encodeChange(node: string, change: AccessChange): string {
  const wire = change.type === 'window' ? { ...change, closesAt: change.closesAt?.getTime() ?? null } : change;
  return JSON.stringify({ node, change: wire });
}

export function decodeChange(payload: string): { readonly node: string; readonly change: AccessChange } | null {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return null;
  }
  const parsed = changeMessage.safeParse(json);
  if (!parsed.success) return null;
  const { node, change } = parsed.data;
  switch (change.type) {
    case 'window':
      return {
        node,
        change: {
          type: 'window',
          buildId: change.buildId as BuildId,
          closesAt: change.closesAt === null ? null : new Date(change.closesAt),
          cause: change.cause,
          ...(change.reason === undefined ? {} : { reason: change.reason }),
        },
      };
    case 'membership':
      return { node, change: { type: 'membership', appId: change.appId as AppId, userId: change.userId as UserId, role: change.role } };
    case 'user_removed':
      return { node, change: { type: 'user_removed', userId: change.userId as UserId } };
    case 'sign_in_changed':
      return { node, change: { type: 'sign_in_changed', userId: change.userId as UserId } };
    case 'signed_out':
      return { node, change: { type: 'signed_out', signInId: change.signInId } };
    case 'build':
      return { node, change: { type: 'build', buildId: change.buildId as BuildId, placement: { appId: change.placement.appId as AppId, endpoints: change.placement.endpoints } } };
  }
}

export function applyChange(target: AccessChanges, change: AccessChange): void {
  switch (change.type) {
    case 'window':
      return target.windowChanged(change.buildId, change.closesAt, change.cause, change.reason);
    case 'membership':
      return target.membershipChanged(change.appId, change.userId, change.role);
    case 'user_removed':
      return target.userRemoved(change.userId);
    case 'sign_in_changed':
      return target.signInChanged(change.userId);
    case 'signed_out':
      return target.signedOut(change.signInId);
    case 'build':
      return target.buildChanged(change.buildId, change.placement);
  }
}

/** Applies each change here first, then hands it to `publish` for the other nodes. */
export function publishingChanges(local: AccessChanges, publish: (change: AccessChange) => void): AccessChanges {
  const both = (change: AccessChange): void => {
    applyChange(local, change);
    publish(change);
  };
  return {
    windowChanged: (buildId, closesAt, cause, reason) => both({ type: 'window', buildId, closesAt, cause, ...(reason === undefined ? {} : { reason }) }),
    membershipChanged: (appId, userId, role) => both({ type: 'membership', appId, userId, role }),
    userRemoved: (userId) => both({ type: 'user_removed', userId }),
    signInChanged: (userId) => both({ type: 'sign_in_changed', userId }),
    signedOut: (signInId) => both({ type: 'signed_out', signInId }),
    buildChanged: (buildId, placement) => both({ type: 'build', buildId, placement }),
  };
}
