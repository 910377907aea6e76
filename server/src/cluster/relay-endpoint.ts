/**
 * The holding node's side of a relayed resume: an internal WebSocket upgrade from another node,
 * carrying a relay assertion (./relay-assertion.ts) instead of a browser's Origin and ticket —
 * that node already checked those, and the user's access, when it redeemed the page's ticket.
 * Here the assertion must be valid, unspent and meant for this node, and the session it names
 * must be live here and the user's; then the relayed socket becomes the session's attachment,
 * exactly as a page's own would, and the session's access rules keep applying to it here.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ReadGate } from '../protocols/frames.js';
import type { ResumableSession, SessionDirectory } from '../sessions/session-directory.js';
import { requestPath } from '../ws/request-path.js';
import { NonceMemory, verifyRelayAssertion, type RelayClaims } from './relay-assertion.js';
import { kindOfRelayPath } from './relay-paths.js';

export interface RelayEndpointDeps {
  readonly nodeId: string;
  /** ./relay-assertion.ts deriveRelayKey of the cluster's shared secret key. */
  readonly key: Buffer;
  readonly sessions: SessionDirectory;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly draining: () => boolean;
}

export interface AdmittedRelay {
  readonly claims: RelayClaims;
  readonly session: ResumableSession;
  /** Nothing was claimed for a relayed page: the session holds its slot and registration. */
  abandon(): void;
}

export interface RelayEndpoint {
  admit(req: IncomingMessage): Promise<Result<AdmittedRelay, GatewayError>>;
  accept(ws: WebSocket, readGate: ReadGate, admitted: AdmittedRelay): void;
}

const NOT_A_NODE = 'This endpoint is for other gateway nodes.';

export function createRelayEndpoint(deps: RelayEndpointDeps): RelayEndpoint {
  const spent = new NonceMemory();
  return {
    admit: (req) => Promise.resolve(admit(deps, spent, req)),
    accept: (ws, readGate, admitted) => admitted.session.resume(ws, readGate, admitted.claims.from),
  };
}

function admit(deps: RelayEndpointDeps, spent: NonceMemory, req: IncomingMessage): Result<AdmittedRelay, GatewayError> {
  const kind = kindOfRelayPath(requestPath(req));
  if (kind === null) return err(new GatewayError('not_found', 'No WebSocket endpoint here.'));
  const verified = verifyRelayAssertion(deps.key, req.headers.authorization, deps.nodeId, deps.now(), spent);
  if (!verified.ok) {
    // The assertion itself is never logged: only why it was refused.
    deps.logger.warn({ event: 'relay_refused', reason: verified.error }, 'refused a relayed attachment');
    return err(new GatewayError('unauthenticated', NOT_A_NODE));
  }
  const claims = verified.value;
  // A forwarded watcher action (./watcher-forwarding.ts) is for its own endpoint, never a page's attachment.
  if (claims.act) return err(new GatewayError('unauthenticated', NOT_A_NODE));
  if (deps.draining()) return err(new GatewayError('draining', 'This gateway node is restarting.'));
  const session = claims.kind === kind ? deps.sessions.find(claims.sessionId, claims) : null;
  if (!session) return err(new GatewayError('session_not_found', 'That session has ended.'));
  return ok({ claims, session, abandon: () => undefined });
}
