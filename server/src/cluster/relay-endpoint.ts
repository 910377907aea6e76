/**
 * The holding node's side of a relayed page: an internal WebSocket upgrade from another node,
 * carrying a relay assertion (./relay-assertion.ts) instead of a browser's Origin and ticket —
 * that node already checked those, and the user's access, when it redeemed the page's ticket.
 * Here the assertion must be valid, unspent and meant for this node, and the session it names
 * must be live here.
 *
 * A resume (v1): the session must be the user's; the relayed socket becomes its attachment,
 * exactly as a page's own would, and the session's access rules keep applying to it here.
 * A watcher (v2, issue #16): any member's session on the build; the watcher's access is checked
 * again here by the admission's own checks (../sessions/admission.ts admitRelayedWatcher), and its
 * slot and live registration are taken here, so a revocation, demotion, removal, sign-out or the
 * window's end drops it from this node exactly as a watcher that reached this node itself.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EventSink } from '../audit/events.js';
import type { ReadGate } from '../protocols/frames.js';
import { admitRelayedWatcher, WATCH_DISABLED_MESSAGE, type Admitted, type AdmissionRefusal, type ClaimsAdmissionDeps } from '../sessions/admission.js';
import type { ResumableSession, SessionDirectory } from '../sessions/session-directory.js';
import { requestPath } from '../ws/request-path.js';
import { NonceMemory, verifyRelayAssertion, type RelayClaims } from './relay-assertion.js';
import { kindOfRelayPath } from './relay-paths.js';

export interface RelayEndpointDeps {
  readonly nodeId: string;
  /** ./relay-assertion.ts deriveRelayKey of the cluster's shared secret key. */
  readonly key: Buffer;
  readonly sessions: SessionDirectory;
  /** What admitting a relayed watcher reads and takes: the store, this node's quota and enforcer. */
  readonly admission: ClaimsAdmissionDeps;
  /** PORTHOLE_WATCH of this node: the node holding a session decides whether it may be watched. */
  readonly watchEnabled: boolean;
  /** A watcher refused here is filed in the audit trail like a refusal at a page's own upgrade. */
  readonly events: EventSink;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly draining: () => boolean;
}

export interface AdmittedRelay {
  readonly claims: RelayClaims;
  readonly session: ResumableSession;
  /** A watcher, admitted here; null: the owner resumes (the session holds its slot and registration). */
  readonly watcher: Admitted | null;
  /** The upgrade did not happen after all: give back what a watcher took. */
  abandon(): void;
}

export interface RelayEndpoint {
  admit(req: IncomingMessage): Promise<Result<AdmittedRelay, GatewayError>>;
  accept(ws: WebSocket, readGate: ReadGate, admitted: AdmittedRelay): void;
}

const NOT_A_NODE = 'This endpoint is for other gateway nodes.';
const SESSION_GONE_MESSAGE = 'That session has ended.';
/**
 * A relayed watcher's ticket was never seen here: the relaying node checked its Origin and
 * expiry at the page's upgrade, and nothing here reads either.
 */
const CHECKED_BY_THE_RELAYING_NODE = '';

export function createRelayEndpoint(deps: RelayEndpointDeps): RelayEndpoint {
  const spent = new NonceMemory();
  return {
    admit: (req) => admit(deps, spent, req),
    accept: (ws, readGate, admitted) => {
      if (admitted.watcher) return admitted.session.watch(ws, readGate, admitted.watcher);
      admitted.session.resume(ws, readGate, admitted.claims.from);
    },
  };
}

async function admit(deps: RelayEndpointDeps, spent: NonceMemory, req: IncomingMessage): Promise<Result<AdmittedRelay, GatewayError>> {
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
  if (claims.kind !== kind) return err(new GatewayError('session_not_found', SESSION_GONE_MESSAGE));
  if (claims.watcher === null) {
    const session = deps.sessions.find(claims.sessionId, claims);
    if (!session) return err(new GatewayError('session_not_found', SESSION_GONE_MESSAGE));
    return ok({ claims, session, watcher: null, abandon: () => undefined });
  }
  // Nodes of one cluster should agree on PORTHOLE_WATCH; when they do not, the stricter one wins.
  if (!deps.watchEnabled) return err(new GatewayError('role_forbidden', WATCH_DISABLED_MESSAGE));
  const session = deps.sessions.findOnBuild(claims.sessionId, claims);
  if (!session) return err(new GatewayError('session_not_found', SESSION_GONE_MESSAGE));
  const admitted = await admitRelayedWatcher(deps.admission, {
    userId: claims.userId,
    buildId: claims.buildId,
    kind: claims.kind,
    origin: CHECKED_BY_THE_RELAYING_NODE,
    // Only screens can be view-only, and only terminal sessions are held and found across nodes.
    viewOnly: false,
    sessionEpoch: claims.watcher.sessionEpoch,
    signInId: claims.watcher.signInId,
    sessionId: claims.sessionId,
    watch: true,
    expiresAt: deps.now(),
  });
  if (!admitted.ok) return err(refuseWatcher(deps, claims, admitted.error));
  const watcher = admitted.value;
  return ok({ claims, session, watcher, abandon: () => watcher.abandon() });
}

/**
 * Files the refusal and answers it in terms the relaying node turns into the page's close
 * (./session-relay.ts). 401 there means "no node": a watcher whose own sign-in ended is refused
 * like any other watcher, with 403.
 */
function refuseWatcher(deps: RelayEndpointDeps, claims: RelayClaims, refusal: AdmissionRefusal): GatewayError {
  deps.events.record({ type: 'ticket_refused', stage: 'redeem', reason: refusal.reason, userId: claims.userId, buildId: claims.buildId, kind: claims.kind, clientAddress: null });
  return refusal.error.code === 'unauthenticated' ? new GatewayError('role_forbidden', refusal.error.message) : refusal.error;
}
