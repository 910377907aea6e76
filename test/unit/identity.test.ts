/** The pure deciders behind issue #22: session epochs, pre-login expiry, sign-in changes and limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UserId } from '../../shared/src/ids.js';
import type { UserRecord } from '../../server/src/store/store.js';
import { holdsCurrentEpoch, newSessionEpoch } from '../../server/src/store/session-epoch.js';
import { PRE_LOGIN_SESSION_TTL_MS, sessionRowExpiry } from '../../server/src/auth/session-store.js';
import { changesSignIn } from '../../server/src/auth/sign-in-change.js';
import { userForSession } from '../../server/src/auth/passport.js';
import { signInIdOf } from '../../server/src/auth/sign-in-id.js';
import {
  MAX_LOGIN_FAILURES_PER_ACCOUNT,
  MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT,
  SIGN_IN_WINDOW_MS,
  SignInLimiter,
  WindowCounter,
} from '../../server/src/auth/sign-in-limits.js';
import { decodeChange, encodeChange } from '../../server/src/cluster/access-changes.js';

const HOUR_MS = 60 * 60_000;
const USER: UserRecord = { id: 'u1' as UserId, email: 'Ada@Example.test', name: null, passwordHash: 'hash', oidcSubject: 'sub-1', sessionEpoch: 'epoch-1' };

test('session epochs: random per user; a session or token holds only the current one', () => {
  assert.notEqual(newSessionEpoch(), newSessionEpoch());
  assert.equal(holdsCurrentEpoch(USER, 'epoch-1'), true);
  assert.equal(holdsCurrentEpoch(USER, 'epoch-0'), false);
  assert.equal(holdsCurrentEpoch(null, 'epoch-1'), false, 'a deleted user holds nothing');
});

test('a session names its user by id and epoch; a bare id (as stored before) is not trusted', () => {
  assert.deepEqual(userForSession({ id: 'u1', epoch: 'epoch-1' }, USER), { id: 'u1', email: 'Ada@Example.test', name: null, sessionEpoch: 'epoch-1' });
  assert.equal(userForSession({ id: 'u1', epoch: 'epoch-0' }, USER), null);
  assert.equal(userForSession({ id: 'u2', epoch: 'epoch-1' }, USER), null);
  assert.equal(userForSession('u1', USER), null);
  assert.equal(userForSession({ id: 'u1', epoch: 'epoch-1' }, null), null);
});

test('sign-in ids: a stable digest that does not contain the session id', () => {
  assert.equal(signInIdOf('sid-1'), signInIdOf('sid-1'));
  assert.notEqual(signInIdOf('sid-1'), signInIdOf('sid-2'));
  assert.ok(!signInIdOf('sid-1').includes('sid-1'));
});

test('session rows: signed-in ones follow the cookie; pre-login ones live at most 10 minutes', () => {
  const now = new Date('2026-01-02T09:00:00Z');
  const cookie = new Date(now.getTime() + 12 * HOUR_MS);
  assert.equal(PRE_LOGIN_SESSION_TTL_MS, 10 * 60_000);
  assert.deepEqual(sessionRowExpiry(cookie, true, now), cookie);
  assert.deepEqual(sessionRowExpiry(cookie, false, now), new Date(now.getTime() + PRE_LOGIN_SESSION_TTL_MS));
  const soon = new Date(now.getTime() + 60_000);
  assert.deepEqual(sessionRowExpiry(soon, false, now), soon, 'never longer than the cookie');
});

test('sign-in changes: password, subject and email (not its case) end sessions; a replay does not', () => {
  assert.equal(changesSignIn(null, { email: 'new@example.test' }), false, 'a new user');
  assert.equal(changesSignIn(USER, { email: 'ada@example.test' }), false, 'the same email in another case');
  assert.equal(changesSignIn(USER, { email: 'Ada@Example.test', passwordIsStored: true, oidcSubject: 'sub-1' }), false, 'a replayed PUT');
  assert.equal(changesSignIn(USER, { email: 'Ada@Example.test', passwordIsStored: false }), true);
  assert.equal(changesSignIn(USER, { email: 'Ada@Example.test', oidcSubject: 'sub-2' }), true);
  assert.equal(changesSignIn(USER, { email: 'Ada@Example.test', oidcSubject: null }), true);
  assert.equal(changesSignIn(USER, { email: 'grace@example.test' }), true);
});

test('window counter: counts per key until the window ends; refuses new keys when full', () => {
  let now = 0;
  const counter = new WindowCounter(() => now, 1000, 2);
  assert.equal(counter.add('a'), true);
  assert.equal(counter.add('a'), true);
  assert.equal(counter.count('a'), 2);
  assert.equal(counter.add('b'), true);
  assert.equal(counter.add('c'), false, 'full');
  now = 1000;
  assert.equal(counter.count('a'), 0, 'the window ended');
  assert.equal(counter.add('c'), true, 'expired keys make room');
});

test('sign-in limiter: correct sign-ins never count as failures; attempts are limited regardless', () => {
  let now = 0;
  const limiter = new SignInLimiter({ now: () => now });
  // Admitted at once (as concurrent requests are), none of them failed: no lockout.
  for (let i = 0; i < MAX_LOGIN_FAILURES_PER_ACCOUNT + 2; i++) assert.equal(limiter.admit(`10.0.0.${i}`, 'ada@example.test'), null);
  for (let i = MAX_LOGIN_FAILURES_PER_ACCOUNT + 2; i < MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT; i++) assert.equal(limiter.admit(`10.0.0.${i}`, 'ADA@example.test'), null);
  assert.equal(limiter.admit('10.0.1.1', 'ada@example.test'), 'too_many_attempts');
  now = SIGN_IN_WINDOW_MS;
  assert.equal(limiter.admit('10.0.1.1', 'ada@example.test'), null, 'a new window');

  for (let i = 0; i < MAX_LOGIN_FAILURES_PER_ACCOUNT; i++) {
    assert.equal(limiter.admit(`10.0.2.${i}`, 'grace@example.test'), null);
    limiter.failed(`10.0.2.${i}`, 'grace@example.test');
  }
  assert.equal(limiter.admit('10.0.3.1', 'grace@example.test'), 'too_many_failures');
});

test('cluster messages carry sign-in changes and sign-outs', () => {
  assert.deepEqual(decodeChange(encodeChange('n1', { type: 'signed_out', signInId: 'si-1' })), { node: 'n1', change: { type: 'signed_out', signInId: 'si-1' } });
  assert.deepEqual(decodeChange(encodeChange('n1', { type: 'sign_in_changed', userId: 'u1' as UserId })), { node: 'n1', change: { type: 'sign_in_changed', userId: 'u1' } });
  assert.equal(decodeChange('{"node":"n1","change":{"type":"signed_out"}}'), null);
});
