/**
 * How one node proves to another that it may attach a page to a session held there: a short-lived,
 * single-use assertion signed with a key every node derives from the cluster's shared
 * PORTHOLE_SECRET_KEY. Nothing without that key can produce one, and one seen once (or meant for
 * another node, or for another session) is refused.
 *
 * Wire format (the `Authorization` header of the internal upgrade, never a URL):
 *   `PortholeNode v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "v1." + claims part))>`
 * Claims: {sessionId, userId, buildId, kind, from, to, expiresAt (ms since the epoch), nonce}, and
 * `act` on an owner's watcher action forwarded to the holding node (./watcher-forwarding.ts), which
 * binds the watcher and what is done to it into the signature. An assertion with `act` attaches no
 * page, and one without it acts on no watcher.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { err, ok, type Result } from '../../../shared/src/result.js';
import { CONNECTION_KINDS, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';
import type { BuildId, UserId } from '../../../shared/src/ids.js';

export const RELAY_AUTH_SCHEME = 'PortholeNode';
const VERSION = 'v1';
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

/** What a session's owner does to one of its watchers (issue #16): let type, take back, remove. */
export interface WatcherActClaim {
  readonly watcherId: UserId;
  readonly op: 'drive' | 'watch' | 'remove';
}

export interface RelayClaims {
  readonly sessionId: string;
  readonly userId: UserId;
  readonly buildId: BuildId;
  readonly kind: ConnectionKind;
  /** The node that relays the page. */
  readonly from: string;
  /** The node holding the session: the only one that accepts the assertion. */
  readonly to: string;
  /** Present only on a forwarded watcher action; `userId` is then the session's owner, who asked. */
  readonly act?: WatcherActClaim;
}

const claimsSchema = z.strictObject({
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

export type RelayRefusal = 'malformed' | 'bad_signature' | 'expired' | 'wrong_node' | 'replayed';

export function deriveRelayKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), KEY_INFO, KEY_BYTES));
}

export function signRelayAssertion(key: Buffer, claims: RelayClaims, now: Date): string {
  const body = { ...claims, expiresAt: now.getTime() + RELAY_ASSERTION_TTL_MS, nonce: randomBytes(NONCE_BYTES).toString('hex') };
  const signed = `${VERSION}.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
  return `${RELAY_AUTH_SCHEME} ${signed}.${mac(key, signed)}`;
}

/**
 * Checks an `Authorization` header value. Pure apart from the replay memory, which the caller
 * owns (one per node): a valid assertion's nonce is spent by this call.
 */
export function verifyRelayAssertion(key: Buffer, header: string | undefined, nodeId: string, now: Date, spent: NonceMemory): Result<RelayClaims, RelayRefusal> {
  const match = /^PortholeNode (v1\.([A-Za-z0-9_-]{1,2048}))\.([A-Za-z0-9_-]{43})$/.exec(header ?? '');
  if (!match) return err('malformed');
  const [, signed = '', payload = '', signature = ''] = match;
  const expected = Buffer.from(mac(key, signed), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return err('bad_signature');
  let parsed;
  try {
    parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return err('malformed');
  }
  if (!parsed.success) return err('malformed');
  const { expiresAt, nonce, act, ...claims } = parsed.data;
  const nowMs = now.getTime();
  if (expiresAt <= nowMs || expiresAt > nowMs + RELAY_ASSERTION_TTL_MS + MAX_CLOCK_SKEW_MS) return err('expired');
  if (claims.to !== nodeId) return err('wrong_node');
  if (!spent.spend(nonce, expiresAt, nowMs)) return err('replayed');
  return ok({
    ...claims,
    userId: claims.userId as UserId,
    buildId: claims.buildId as BuildId,
    ...(act ? { act: { watcherId: act.watcherId as UserId, op: act.op } } : {}),
  });
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
