/**
 * A session owner's watcher action (let type, take back, remove: issue #16) reaching the node that
 * holds the session when the owner's request reached another one. The receiving node signs a relay
 * assertion (./relay-assertion.ts) naming the session, its owner — who asked, already authorised
 * there by the remote-access policy — and the action, and POSTs it to the holding node's internal
 * endpoint; that node checks the assertion as it checks a relayed page's (fresh, unspent, meant for
 * it) and acts on the session, which must be live there and the owner's.
 */
import { Router } from 'express';
import type { ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';
import { err, ok, type Result } from '../../../shared/src/result.js';
import type { ErrorBody } from '../../../shared/src/errors.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SessionDirectory } from '../sessions/session-directory.js';
import { NonceMemory, signRelayAssertion, verifyRelayAssertion, type WatcherActClaim } from './relay-assertion.js';
import { WATCHER_ACTION_PATH } from './relay-paths.js';

/** Nodes share a network: one answers in milliseconds; beyond this the owner is told to try again. */
export const FORWARD_TIMEOUT_MS = 5_000;

const NOT_A_NODE = 'This endpoint is for other gateway nodes.';

export interface ForwardedAction {
  /** The node holding the session, and where it takes internal calls (PORTHOLE_NODE_URL). */
  readonly nodeId: string;
  readonly nodeUrl: string;
  readonly sessionId: string;
  readonly ownerId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  readonly act: WatcherActClaim;
}

/** What the holding node answered: done, or why not ('unreachable': no answer that says). */
export type ForwardRefusal = 'session_not_found' | 'watcher_not_found' | 'unreachable';

export interface ForwarderDeps {
  readonly nodeId: string;
  readonly key: Buffer;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Injected for tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

export type WatcherActionForwarder = (action: ForwardedAction) => Promise<Result<void, ForwardRefusal>>;

export function createWatcherForwarder(deps: ForwarderDeps): WatcherActionForwarder {
  const send = deps.fetch ?? fetch;
  return async (action) => {
    const authorization = signRelayAssertion(
      deps.key,
      { sessionId: action.sessionId, userId: action.ownerId, buildId: action.buildId, kind: action.kind, from: deps.nodeId, to: action.nodeId, watcher: null, act: action.act },
      deps.now(),
    );
    let res: Response;
    try {
      res = await send(new URL(WATCHER_ACTION_PATH, action.nodeUrl), { method: 'POST', headers: { Authorization: authorization, Accept: 'application/json' }, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
    } catch (error) {
      deps.logger.warn({ event: 'watcher_forward_failed', node: action.nodeId, err: error }, 'could not reach the node holding the session');
      return err('unreachable');
    }
    if (res.status === 204) return ok(undefined);
    const body = (await res.json().catch(() => null)) as ErrorBody | null;
    const code = body?.error.code;
    if (code === 'session_not_found') return err('session_not_found');
    if (res.status === 404 && code === 'not_found') return err('watcher_not_found');
    deps.logger.warn({ event: 'watcher_forward_failed', node: action.nodeId, status: res.status, code }, 'the node holding the session refused a forwarded watcher action');
    return err('unreachable');
  };
}

export interface WatcherActionEndpointDeps {
  readonly nodeId: string;
  readonly key: Buffer;
  readonly sessions: Pick<SessionDirectory, 'find'>;
  readonly now: () => Date;
  readonly logger: Logger;
}

/** The holding node's side: before the session middleware, as no browser ever calls it. */
export function watcherActionRouter(deps: WatcherActionEndpointDeps): Router {
  const router = Router();
  const spent = new NonceMemory();
  router.post(WATCHER_ACTION_PATH, (req, res) => {
    const verified = verifyRelayAssertion(deps.key, req.get('authorization'), deps.nodeId, deps.now(), spent);
    const claims = verified.ok ? verified.value : null;
    if (!claims?.act) {
      // The assertion itself is never logged: only why it was refused.
      deps.logger.warn({ event: 'relay_refused', reason: verified.ok ? 'not_an_action' : verified.error }, 'refused a forwarded watcher action');
      throw new GatewayError('unauthenticated', NOT_A_NODE);
    }
    // The owner's own session only, exactly as the owner's own request to this node would find it.
    const session = deps.sessions.find(claims.sessionId, claims);
    if (!session) throw new GatewayError('session_not_found', 'That session has ended.');
    const { watcherId, op } = claims.act;
    const done = op === 'remove' ? session.removeWatcher(watcherId) : session.setWatcherMode(watcherId, op);
    if (!done) throw new GatewayError('not_found', 'That person is not watching this session.');
    res.status(204).end();
  });
  return router;
}
