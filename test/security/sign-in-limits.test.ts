/**
 * Issue #22, item 8: every sign-in costs an argon2 verification (≈ 0.25-0.5 s of CPU), so
 * successful ones are limited too, per account and per address; concurrent correct sign-ins do
 * not count as failures; and one user keeps a bounded number of sign-in sessions.
 * The gateway trusts one proxy hop here, so each test speaks from an address of its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import request from 'supertest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, type SeededUser, type World } from '../helpers/seed.js';
import {
  MAX_LOGIN_FAILURES_PER_ACCOUNT,
  MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT,
  MAX_SIGN_IN_ATTEMPTS_PER_ADDRESS,
} from '../../server/src/auth/sign-in-limits.js';
import { MAX_SIGN_IN_SESSIONS_PER_USER } from '../../server/src/auth/session-store.js';

describe('sign-in limits (issue #22)', () => {
  let gw: TestGateway;
  let world: World;
  let db: Database.Database;

  before(async () => {
    gw = await startGateway({ PORTHOLE_TRUST_PROXY: 'true' });
    world = await seedWorld(gw);
    db = new Database(gw.databasePath, { readonly: true, fileMustExist: true });
  });
  after(async () => {
    db.close();
    await gw.close();
  });

  function login(user: SeededUser, address: string, password = user.password): Promise<request.Response> {
    return request(gw.url).post('/auth/login').set('Origin', gw.origin).set('X-Forwarded-For', address).send({ email: user.email, password });
  }

  test('concurrent correct sign-ins are not failures; successful ones are limited per account', async () => {
    const { developer } = world.users;
    const concurrent = MAX_LOGIN_FAILURES_PER_ACCOUNT + 2;
    const first = await Promise.all(Array.from({ length: concurrent }, (_, i) => login(developer, `10.1.0.${i + 1}`)));
    assert.deepEqual(first.map((r) => r.status), Array<number>(concurrent).fill(204), 'no correct sign-in is refused as a failure');
    for (let i = concurrent; i < MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT; i++) assert.equal((await login(developer, `10.1.1.${i}`)).status, 204);
    const over = await login(developer, '10.1.2.1');
    assert.equal(over.status, 429, `sign-in number ${MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT + 1} in the window is refused`);
    assert.equal((over.body as { error: { code: string } }).error.code, 'rate_limited');
    assert.equal(over.get('Retry-After'), '900');
  });

  test('a user keeps at most the newest sign-in sessions', () => {
    const rows = db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = 'user-developer'").get() as { n: number };
    assert.equal(Number(rows.n), MAX_SIGN_IN_SESSIONS_PER_USER, `after ${MAX_SIGN_IN_ATTEMPTS_PER_ACCOUNT} sign-ins, ${MAX_SIGN_IN_SESSIONS_PER_USER} sessions remain`);
  });

  test('successful sign-ins are limited per address, whichever accounts they are for', async () => {
    const address = '10.2.0.1';
    const accounts = [world.users.owner, world.users.admin, world.users.tester, world.users.outsider];
    for (let i = 0; i < MAX_SIGN_IN_ATTEMPTS_PER_ADDRESS; i++) {
      const user = accounts[i % accounts.length] as SeededUser;
      assert.equal((await login(user, address)).status, 204, `sign-in ${i + 1}`);
    }
    assert.equal((await login(world.users.owner, address)).status, 429);
    assert.equal((await login(world.users.owner, '10.2.0.2')).status, 204, 'another address is not affected');
  });

  test('failures still lock the account: a correct password after the failure limit is refused', async () => {
    const tester = { id: 'locked-out', email: 'locked-out@example.test', password: 'pw-locked-out' };
    assert.equal((await control(gw).put(`/users/${tester.id}`, { email: tester.email, password: tester.password })).status, 201);
    for (let i = 0; i < MAX_LOGIN_FAILURES_PER_ACCOUNT; i++) assert.equal((await login(tester, `10.3.0.${i + 1}`, 'wrong')).status, 401);
    assert.equal((await login(tester, '10.3.1.1')).status, 429);
  });
});
