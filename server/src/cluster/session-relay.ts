/**
 * The node a resuming or watching page reached, when another node holds its session: it opens an
 * internal WebSocket to that node (its PORTHOLE_NODE_URL, authenticated by a relay assertion) and
 * carries messages both ways as they are, with backpressure on each leg. The holding node owns the
 * session and enforces access on it (window end, revocation, idle, the hold), and on a watcher it
 * admitted itself; this node only carries bytes, and ends the page's socket with the code the
 * holding node ends the relay with.
 *
 * A page that leaves without ending the session (1001, 1005, 1006) leaves the relay with 1001,
 * so the holding node holds the session again; this node draining does the same, and the page
 * resumes through another node.
 */
import { WebSocket, type RawData } from 'ws';
import { ABNORMAL_CLOSURE_CODE, CloseCode, NO_STATUS_CODE, RESUMABLE_CLOSE_CODES } from '../../../shared/src/protocol/close-codes.js';
import { SUBPROTOCOLS } from '../../../shared/src/protocol/kinds.js';
import { decideFlow, type FlowLimits } from '../flow/backpressure.js';
import type { Logger } from '../log.js';
import { closeForSocketError, closeWebSocket, type ReadGate } from '../protocols/frames.js';
import { closedPromise, type DrainTracker } from '../sessions/drain.js';
import type { RemoteSession, SessionOwner } from '../sessions/session-directory.js';
import type { Heartbeat } from '../ws/heartbeat.js';
import { MAX_CLIENT_MESSAGE_BYTES } from '../ws/upgrade.js';
import { signRelayAssertion } from './relay-assertion.js';
import { relayUrl } from './relay-paths.js';

/** Nodes share a network: a handshake slower than this means the holding node is in trouble. */
export const RELAY_HANDSHAKE_TIMEOUT_MS = 5_000;
/**
 * The holding node sends terminal output in messages of at most TERMINAL_OUTPUT_BATCH_BYTES (64 KiB)
 * and control messages far smaller; room to spare, and far below ws's 100 MiB default.
 */
export const RELAY_MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * What a page may send before the relay is open (it sends `resume` and its size at once): the
 * socket read that was under way when its reads were paused, at most a few messages.
 */
export const RELAY_EARLY_BYTES = 4 * MAX_CLIENT_MESSAGE_BYTES;
/** Queued on one leg beyond this, the other leg stops being read until it drains below the low mark. */
const RELAY_FLOW_LIMITS: FlowLimits = {
  unackedHighBytes: Number.POSITIVE_INFINITY,
  unackedLowBytes: Number.POSITIVE_INFINITY,
  bufferedHighBytes: 1024 * 1024,
  bufferedLowBytes: 256 * 1024,
};
const PAGE_LEFT_REASON = 'page left';
const NODE_UNREACHABLE_REASON = 'the session is on a gateway node that cannot be reached now';
const SESSION_GONE_REASON = 'the session has ended';
const ACCESS_ENDED_REASON = 'access ended while connecting';
const INTERNAL_REASON = 'internal error';
/** 1015: the TLS handshake failed (RFC 6455 §7.4.1). */
const TLS_FAILURE_CODE = 1015;
/** Close codes a peer may be told of but never send in a close frame. */
const UNSENDABLE_CLOSE_CODES: ReadonlySet<number> = new Set([NO_STATUS_CODE, ABNORMAL_CLOSURE_CODE, TLS_FAILURE_CODE]);

export interface SessionRelayDeps {
  readonly nodeId: string;
  /** ./relay-assertion.ts deriveRelayKey of the cluster's shared secret key. */
  readonly key: Buffer;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly tracker: DrainTracker;
  readonly heartbeat: Heartbeat;
}

/** Every relay this node carries, so a drain or shutdown can end them. */
export class SessionRelays {
  readonly #deps: SessionRelayDeps;
  readonly #live = new Set<Relay>();

  constructor(deps: SessionRelayDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#live.size;
  }

  open(ws: WebSocket, readGate: ReadGate, session: RelayedSession, node: RemoteSession): void {
    const relay = new Relay(this.#deps, { ws, readGate }, session, node, () => this.#live.delete(relay));
    this.#live.add(relay);
  }

  /** Ends every relay: the pages get `code` (1001: resume elsewhere), the holding nodes hold their sessions. */
  closeAll(code: number, reason: string): void {
    for (const relay of [...this.#live]) relay.close(code, reason);
  }
}

/** The session a page resumes or watches, as its ticket named it, and the page's user. */
export interface RelayedSession extends SessionOwner {
  readonly sessionId: string;
  /** The page watches another member's session (issue #16); the holding node admits it again. */
  readonly watch: boolean;
  /** The user's sign-in, which the holding node enforces on a watcher (a resume is enforced by its session). */
  readonly sessionEpoch: string;
  readonly signInId: string | null;
}

interface Page {
  readonly ws: WebSocket;
  readonly readGate: ReadGate;
}

class Relay {
  readonly #page: Page;
  readonly #upstream: WebSocket;
  readonly #logger: Logger;
  readonly #onGone: () => void;
  /** Page messages that arrived before the holding node answered, in order. */
  #early: { data: RawData; isBinary: boolean }[] | null = [];
  #earlyBytes = 0;
  #closeOnOpen: { readonly code: number; readonly reason: string } | null = null;
  #pagePaused = false;
  #upstreamPaused = false;
  #closed = false;

  constructor(deps: SessionRelayDeps, page: Page, session: RelayedSession, node: RemoteSession, onGone: () => void) {
    this.#page = page;
    this.#onGone = onGone;
    this.#logger = deps.logger.child({ relayTo: node.nodeId });
    const { sessionId, userId, buildId, kind } = session;
    const watcher = session.watch ? { sessionEpoch: session.sessionEpoch, signInId: session.signInId } : null;
    this.#upstream = new WebSocket(relayUrl(node.nodeUrl, kind), [SUBPROTOCOLS[kind]], {
      headers: { authorization: signRelayAssertion(deps.key, { sessionId, userId, buildId, kind, from: deps.nodeId, to: node.nodeId, watcher }, deps.now()) },
      handshakeTimeout: RELAY_HANDSHAKE_TIMEOUT_MS,
      maxPayload: RELAY_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      followRedirects: false,
    });
    // Nothing goes anywhere until the holding node has taken the relay.
    page.ws.pause();
    deps.tracker.track(closedPromise(page.ws));
    deps.tracker.track(closedPromise(this.#upstream));
    deps.heartbeat.watch(page.ws);
    this.#wirePage();
    this.#wireUpstream(deps);
  }

  /** Idempotent: the page gets `code`, the holding node 1001 (it holds the session for the page). */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#early = null;
    this.#onGone();
    closeWebSocket(this.#page.ws, this.#page.readGate, code, reason);
    this.#leaveUpstream(CloseCode.goingAway, PAGE_LEFT_REASON);
  }

  #wirePage(): void {
    const { ws } = this.#page;
    ws.on('message', (data, isBinary) => {
      if (this.#closed) return;
      if (this.#early) return this.#keepEarly(data, isBinary);
      this.#forward(this.#upstream, data, isBinary, 'page');
    });
    ws.on('error', (error) => {
      ws.terminate();
      const close = closeForSocketError(error);
      if (close) this.close(close.code, close.reason);
    });
    ws.once('close', (code, reason) => {
      if (this.#closed) return;
      this.#closed = true;
      this.#early = null;
      this.#onGone();
      // The page went without ending the session: the holding node holds it, as for its own pages.
      if (RESUMABLE_CLOSE_CODES.has(code) || UNSENDABLE_CLOSE_CODES.has(code)) this.#leaveUpstream(CloseCode.goingAway, PAGE_LEFT_REASON);
      else this.#leaveUpstream(code, reason.toString('utf8'));
    });
  }

  #wireUpstream(deps: SessionRelayDeps): void {
    const upstream = this.#upstream;
    upstream.once('open', () => {
      deps.heartbeat.watch(upstream);
      const early = this.#early ?? [];
      this.#early = null;
      if (this.#closeOnOpen) return upstream.close(this.#closeOnOpen.code, this.#closeOnOpen.reason);
      for (const { data, isBinary } of early) this.#forward(upstream, data, isBinary, 'page');
      this.#page.ws.resume();
    });
    upstream.on('message', (data, isBinary) => {
      if (!this.#closed) this.#forward(this.#page.ws, data, isBinary, 'upstream');
    });
    upstream.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      upstream.terminate();
      if (status === 404) return this.close(CloseCode.sessionEnded, SESSION_GONE_REASON);
      if (status === 503) return this.close(CloseCode.goingAway, NODE_UNREACHABLE_REASON);
      // A watcher whose access ended between this node's check and the holding node's (../sessions/admission.ts).
      if (status === 410) return this.close(CloseCode.windowClosed, ACCESS_ENDED_REASON);
      if (status === 403 || status === 429) return this.close(CloseCode.forbidden, ACCESS_ENDED_REASON);
      // 401: the nodes do not share PORTHOLE_SECRET_KEY, or this one is not who it says.
      this.#logger.error({ event: 'relay_failed', status }, 'the holding node refused a relayed attachment');
      this.close(CloseCode.internalError, INTERNAL_REASON);
    });
    upstream.on('error', (error) => {
      upstream.terminate();
      if (this.#closed) return;
      this.#logger.warn({ event: 'relay_failed', err: error }, 'cannot reach the node holding the session');
      this.close(CloseCode.goingAway, NODE_UNREACHABLE_REASON);
    });
    upstream.once('close', (code, reason) => {
      if (this.#closed) return;
      this.#closed = true;
      this.#onGone();
      // Gone without a word (the node died, the network): the page retries, and finds out.
      const forwarded = UNSENDABLE_CLOSE_CODES.has(code) ? { code: CloseCode.goingAway, reason: NODE_UNREACHABLE_REASON } : { code, reason: reason.toString('utf8') };
      closeWebSocket(this.#page.ws, this.#page.readGate, forwarded.code, forwarded.reason);
    });
  }

  #keepEarly(data: RawData, isBinary: boolean): void {
    this.#earlyBytes += rawLength(data);
    if (this.#earlyBytes > RELAY_EARLY_BYTES) return this.close(CloseCode.policyViolation, 'too much sent before the session was resumed');
    this.#early?.push({ data, isBinary });
  }

  /** Sends on one leg; a full leg stops reading the other until it drains. */
  #forward(to: WebSocket, data: RawData, isBinary: boolean, from: 'page' | 'upstream'): void {
    if (to.readyState !== to.OPEN) return;
    to.send(data, { binary: isBinary }, () => this.#reviewFlow(to, from));
    this.#reviewFlow(to, from);
  }

  #reviewFlow(to: WebSocket, from: 'page' | 'upstream'): void {
    const source = from === 'page' ? this.#page.ws : this.#upstream;
    const paused = from === 'page' ? this.#pagePaused : this.#upstreamPaused;
    const action = decideFlow({ unackedBytes: 0, bufferedBytes: to.bufferedAmount, paused }, RELAY_FLOW_LIMITS);
    if (action === 'none') return;
    const pause = action === 'pause';
    if (from === 'page') this.#pagePaused = pause;
    else this.#upstreamPaused = pause;
    if (pause) source.pause();
    else source.resume();
  }

  #leaveUpstream(code: number, reason: string): void {
    const upstream = this.#upstream;
    if (upstream.readyState === upstream.OPEN) {
      upstream.close(code, reason);
      // Paused for backpressure, it would never read the holding node's answering close frame.
      upstream.resume();
    } else if (upstream.readyState === upstream.CONNECTING) {
      // Said once it is open: cutting it now would tell the holding node 1006 whatever the page meant.
      this.#closeOnOpen = { code, reason };
    }
  }
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
