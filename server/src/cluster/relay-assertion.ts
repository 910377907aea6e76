/**
 * How one node proves to another that it may attach a page to a session held there: a short-lived,
 * single-use assertion signed with a key every node derives from the cluster's shared
 * PORTHOLE_SECRET_KEY. Nothing without that key can produce one, and one seen once (or meant for
 * another node, or for another session) is refused.
 *
 * Wire format (the `Authorization` header of the internal upgrade, never a URL):
 *   `PortholeNode <v>.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "<v>." + claims part))>`
 * The version is signed with the claims, so one cannot be passed off as the other.
 *   v1, a resume (issue #15): {sessionId, userId, buildId, kind, from, to, expiresAt (ms since the
 *     epoch), nonce}; userId is the session's owner.
 *   v2, a watcher (issue #16): v1's claims plus {watch: true, sessionEpoch, signInId}; userId is
 *     the watcher, whose access the holding node checks again and enforces itself, so it needs
 *     what sign-out and sign-in changes are matched on (the epoch, the sign-in session or null).
 * A resume is still signed v1, so nodes of the previous release keep taking resumes during a
 * rolling upgrade; only nodes of this release take v2 (an older one answers 401).
 * A v1 assertion may also carry `act`: an owner's watcher action forwarded to the holding node
 * (./watcher-forwarding.ts), binding the watcher and what is done to it into the signature. An
 * assertion with `act` attaches no page, and one without it acts on no watcher.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { CONNECTION_KINDS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';

export const RELAY_AUTH_SCHEME = 'PortholeNode';
const RESUME_VERSION = 'v1';
const WATCH_VERSION = 'v2';
/** Covers one internal upgrade between nodes on one network, with room for a slow one. */
export const RELAY_ASSERTION_TTL_MS = 30_000;
/** Clocks of nodes behind one balancer agree to well within this; an assertion further out is refused. */
const MAX_CLOCK_SKEW_MS = 5_000;
/** 128 bits: no two assertions share one by chance. */
const NONCE_BYTES = 16;
const KEY_BYTES = 32;
/** Binds the derived key to this one use: the same secret key also seals VM secrets. */
const KEY_INFO = 'porthole node relay v1';
/** A node relays at most a few attachments a second; this bounds the replay memory all the same. */
export const MAX_REMEMBERED_NONCES = 100_000;

export interface RelayClaims {
  readonly sessionId: string;
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  /** The node that relays the page. */
  readonly from: string;
  /** The node holding the session: the only one that accepts the assertion. */
  readonly to: string;
  /** v2: the page joins the session as this watcher (userId); null (v1): the session's owner resumes it. */
  readonly watcher: RelayWatcher | null;
  /** v1 only, on a forwarded watcher action; `userId` is then the session's owner, who asked. */
  readonly act?: WatcherActClaim;
}

/** What a session's owner does to one of its watchers (issue #16): let type, take back, remove. */
export interface WatcherActClaim {
  readonly watcherId: UserId;
  readonly op: 'drive' | 'watch' | 'remove';
}

/** What the holding node matches a watcher's sign-in on, as for a ticket (../connections/tickets.ts). */
export interface RelayWatcher {
  readonly sessionEpoch: string;
  readonly signInId: string | null;
}

const resumeSchema = z.strictObject({
  sessionId: z.string().min(1).max(64),
  userId: z.string().min(1).max(256),
  buildId: z.string().min(1).max(256),
  kind: z.enum(CONNECTION_KINDS),
  from: z.string().min(1).max(64),
  to: z.string().min(1).max(64),
  expiresAt: z.number().int(),
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  act: z.strictObject({ watcherId: z.string().min(1).max(256), op: z.enum(['drive', 'watch', 'remove']) }).optional(),
});
const watchSchema = resumeSchema.omit({ act: true }).extend({
  watch: z.literal(true),
  sessionEpoch: z.string().min(1).max(256),
  signInId: z.string().min(1).max(256).nullable(),
});

export type RelayRefusal = 'malformed' | 'bad_signature' | 'expired' | 'wrong_node' | 'replayed';

export function deriveRelayKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), KEY_INFO, KEY_BYTES));
}

export function signRelayAssertion(key: Buffer, claims: RelayClaims, now: Date): string {
  const { watcher, ...target } = claims;
  const lifetime = { expiresAt: now.getTime() + RELAY_ASSERTION_TTL_MS, nonce: randomBytes(NONCE_BYTES).toString('hex') };
  const [version, body] = watcher === null ? [RESUME_VERSION, { ...target, ...lifetime }] : [WATCH_VERSION, { ...target, watch: true, ...watcher, ...lifetime }];
  const signed = `${version}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
  return `${RELAY_AUTH_SCHEME} ${signed}.${mac(key, signed)}`;
}

/**
 * Checks an `Authorization` header value. Pure apart from the replay memory, which the caller
 * owns (one per node): a valid assertion's nonce is spent by this call.
 */
export function verifyRelayAssertion(key: Buffer, header: string | undefined, nodeId: string, now: Date, spent: NonceMemory): Result<RelayClaims, RelayRefusal> {
  const match = /^PortholeNode ((v[12])\.([A-Za-z0-9_-]{1,2048}))\.([A-Za-z0-9_-]{43})$/.exec(header ?? '');
  if (!match) return err('malformed');
  const [, signed = '', version = '', payload = '', signature = ''] = match;
  const expected = Buffer.from(mac(key, signed), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return err('bad_signature');
  const parsed = parseClaims(version, payload);
  if (parsed === null) return err('malformed');
  const { expiresAt, nonce, ...claims } = parsed;
  const nowMs = now.getTime();
  if (expiresAt <= nowMs || expiresAt > nowMs + RELAY_ASSERTION_TTL_MS + MAX_CLOCK_SKEW_MS) return err('expired');
  if (claims.to !== nodeId) return err('wrong_node');
  if (!spent.spend(nonce, expiresAt, nowMs)) return err('replayed');
  return ok(claims);
}

/** The claims of a signed payload by its version's schema; null when they are not that. */
function parseClaims(version: string, payload: string): (RelayClaims & { readonly expiresAt: number; readonly nonce: string }) | null {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (version === RESUME_VERSION) {
    const parsed = resumeSchema.safeParse(json);
    if (!parsed.success) return null;
    const { act, ...claims } = parsed.data;
    return {
      ...claims,
      userId: claims.userId as UserId,
      buildId: claims.buildId as BuildId,
      watcher: null,
      ...(act ? { act: { watcherId: act.watcherId as UserId, op: act.op } } : {}),
    };
  }
  const parsed = watchSchema.safeParse(json);
  if (!parsed.success) return null;
  const { watch: _watch, sessionEpoch, signInId, ...target } = parsed.data;
  return { ...target, userId: target.userId as UserId, buildId: target.buildId as BuildId, watcher: { sessionEpoch, signInId } };
}

function mac(key: Buffer, signed: string): string {
  return createHmac('sha256', key).update(signed).digest('base64url');
}

/**
 * The nonces of assertions accepted and not yet expired: each is good once. Expiries come in
 * nearly in order (now + a fixed lifetime), so the expired are dropped from the front as it goes.
 */
export class NonceMemory {
  readonly #expiries = new Map<string, number>();

  constructor(readonly max: number = MAX_REMEMBERED_NONCES) {}

  get size(): number {
    return this.#expiries.size;
  }

  /** False when the nonce was spent already, or when the memory is full of unexpired ones (fail closed). */
  spend(nonce: string, expiresAt: number, nowMs: number): boolean {
    for (const [oldest, expiry] of this.#expiries) {
      if (expiry > nowMs) break;
      this.#expiries.delete(oldest);
    }
    if (this.#expiries.has(nonce) || this.#expiries.size >= this.max) return false;
    this.#expiries.set(nonce, expiresAt);
    return true;
  }
}
