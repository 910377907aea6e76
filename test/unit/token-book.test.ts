/** The one book behind connection tickets, embed launches and embed credentials. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBook, type TokenKind } from '../../server/src/connections/token-book.js';

const T0 = new Date('2026-11-27T10:00:00Z');
const TTL_MS = 60_000;

function clock(): { now: () => Date; advance: (ms: number) => void } {
  let at = T0.getTime();
  return { now: () => new Date(at), advance: (ms) => (at += ms) };
}

function kind(uses: TokenKind['uses'], perUserMax = 10): TokenKind {
  return { ttlMs: TTL_MS, maxRecords: 100, perUser: { max: perUserMax, whenFull: 'refuse' }, uses };
}

const grant = (userId: string): { userId: string; note: string } => ({ userId, note: 'n' });

test('a single-use kind is consumed by redeeming; its claims carry the kind\'s expiry', async () => {
  const book = new TokenBook<{ userId: string; note: string }>(clock().now, kind('once'));
  try {
    const minted = await book.mint(grant('u'));
    assert.ok(minted.ok);
    assert.equal(minted.value.expiresAt.getTime(), T0.getTime() + TTL_MS);
    assert.deepEqual(await book.redeem(minted.value.token), { ok: true, claims: { userId: 'u', note: 'n', expiresAt: minted.value.expiresAt } });
    assert.deepEqual(await book.redeem(minted.value.token), { ok: false, reason: 'unknown_or_used' });
  } finally {
    book.dispose();
  }
});

test('a many-use kind is redeemed again and again until it expires', async () => {
  const c = clock();
  const book = new TokenBook<{ userId: string; note: string }>(c.now, kind('until_expiry'));
  try {
    const minted = await book.mint(grant('u'));
    assert.ok(minted.ok);
    assert.equal((await book.redeem(minted.value.token)).ok, true);
    assert.equal((await book.redeem(minted.value.token)).ok, true);
    c.advance(TTL_MS);
    assert.deepEqual(await book.redeem(minted.value.token), { ok: false, reason: 'expired' });
  } finally {
    book.dispose();
  }
});

test('notAfter shortens a token\'s life but never lengthens it', async () => {
  const book = new TokenBook<{ userId: string; note: string }>(clock().now, kind('until_expiry'));
  try {
    const sooner = new Date(T0.getTime() + TTL_MS / 2);
    const short = await book.mint(grant('u'), sooner);
    assert.ok(short.ok);
    assert.equal(short.value.expiresAt.getTime(), sooner.getTime());
    const long = await book.mint(grant('u'), new Date(T0.getTime() + 2 * TTL_MS));
    assert.ok(long.ok);
    assert.equal(long.value.expiresAt.getTime(), T0.getTime() + TTL_MS);
  } finally {
    book.dispose();
  }
});

test('the kind\'s per-user bound holds: a user at it is refused, another user is not', async () => {
  const book = new TokenBook<{ userId: string; note: string }>(clock().now, kind('once', 2));
  try {
    assert.ok((await book.mint(grant('hoarder'))).ok);
    assert.ok((await book.mint(grant('hoarder'))).ok);
    assert.deepEqual(await book.mint(grant('hoarder')), { ok: false, error: 'owner_full' });
    assert.ok((await book.mint(grant('someone-else'))).ok);
  } finally {
    book.dispose();
  }
});
