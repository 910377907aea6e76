/**
 * Single sign-on against a real OpenID provider (oidc-provider on loopback): Chromium signs in
 * through the provider and lands on the build page it asked for; users are matched by registered
 * subject or verified email only; forged callbacks and unregistered people are refused; password
 * sign-in can be switched off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { control, seedWorld, type World } from '../helpers/seed.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';

/** Playwright waits on conditions, never on time; this bounds each wait. */
const UI_TIMEOUT_MS = 15_000;
const PROVIDER_NAME = 'Test SSO';

function oidcEnv(provider: TestOidcProvider, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORTHOLE_OIDC_ISSUER: provider.issuer,
    PORTHOLE_OIDC_CLIENT_ID: provider.clientId,
    PORTHOLE_OIDC_CLIENT_SECRET: provider.clientSecret,
    PORTHOLE_OIDC_PROVIDER_NAME: PROVIDER_NAME,
    ...extra,
  };
}

describe('single sign-on through an OpenID provider', () => {
  let provider: TestOidcProvider;
  let gw: TestGateway;
  let world: World;
  let browser: Browser;

  before(async () => {
    provider = await startOidcProvider();
    gw = await startGateway(oidcEnv(provider));
    provider.setRedirectUri(`${gw.url}/auth/oidc/callback`);
    world = await seedWorld(gw);
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await gw.close();
    await provider.stop();
  });

  async function signInThroughProvider(account: string, nextPath: string): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(`${gw.url}${nextPath}`);
    assert.ok(page.url().startsWith(`${gw.url}/login?next=`), 'anonymous visitors are sent to sign in');
    await page.getByRole('link', { name: `Sign in with ${PROVIDER_NAME}` }).click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.getByLabel('Account').fill(account);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === gw.origin);
    return page;
  }

  test('the control API registers a subject, once per subject', async () => {
    const api = control(gw);
    const dev = world.users.developer;
    const res = await api.put(`/users/${dev.id}`, { email: dev.email, oidcSubject: 'sub-developer' });
    assert.equal(res.status, 200);
    assert.equal(res.body.oidcSubject, 'sub-developer');
    assert.equal(res.body.hasPassword, true, 'the password is kept');
    const clash = await api.put(`/users/${world.users.admin.id}`, { email: world.users.admin.email, oidcSubject: 'sub-developer' });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'conflict');
    assert.equal((await api.put(`/users/${dev.id}`, { email: dev.email, oidcSubject: '' })).status, 400);
  });

  test('Chromium: a registered subject signs in at the provider and reaches the build page it asked for', async () => {
    provider.addAccount({ sub: 'sub-developer', email: 'someone-else@idp.test', emailVerified: false });
    const page = await signInThroughProvider('sub-developer', `/builds/${world.builds.linuxRunning}`);
    assert.equal(page.url(), `${gw.url}/builds/${world.builds.linuxRunning}`);
    await page.getByRole('heading', { name: 'Remote Access Instructions' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Open terminal' }).count(), 1);
    const login = [...gw.logs()].reverse().find((l) => l['event'] === 'login_succeeded');
    assert.equal(login?.['userId'], world.users.developer.id);
    await page.context().close();
  });

  test('Chromium: a verified email matches a user registered by email', async () => {
    provider.addAccount({ sub: 'sub-owner-at-idp', email: world.users.owner.email.toUpperCase(), emailVerified: true });
    const page = await signInThroughProvider('sub-owner-at-idp', '/');
    await page.getByRole('heading', { name: 'Your builds' }).waitFor();
    await page.context().close();
  });

  test('Chromium: an unverified email is not enough: refused on the login page', async () => {
    provider.addAccount({ sub: 'sub-unverified', email: world.users.admin.email, emailVerified: false });
    const page = await signInThroughProvider('sub-unverified', '/');
    assert.ok(page.url().startsWith(`${gw.url}/`));
    await page.getByRole('alert').filter({ hasText: 'not registered with Porthole' }).waitFor();
    await page.context().close();
  });

  test('a subject-bound user cannot be reached through their email from another subject', async () => {
    provider.addAccount({ sub: 'sub-impostor', email: world.users.developer.email, emailVerified: true });
    const page = await signInThroughProvider('sub-impostor', '/');
    await page.getByRole('alert').filter({ hasText: 'different single sign-on account' }).waitFor();
    await page.context().close();
  });

  test('a callback without the matching state in the session is refused', async () => {
    const forged = await request(gw.url).get('/auth/oidc/callback?code=stolen&state=guess');
    assert.equal(forged.status, 401);
    assert.match(forged.text, /did not work/);
    assert.equal(forged.headers['set-cookie'], undefined, 'no session is created');
  });

  test('the start redirect carries PKCE S256, state and nonce', async () => {
    const res = await request(gw.url).get('/auth/oidc?next=/builds/x');
    assert.equal(res.status, 302);
    const location = new URL(res.headers['location'] as string);
    assert.equal(location.origin, provider.issuer);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(location.searchParams.get('code_challenge'));
    assert.ok(location.searchParams.get('state'));
    assert.ok(location.searchParams.get('nonce'));
    assert.equal(location.searchParams.get('redirect_uri'), `${gw.url}/auth/oidc/callback`);
  });

  test('PORTHOLE_LOCAL_LOGIN=false: the login page offers single sign-on only and passwords are refused', async () => {
    const ssoOnly = await startGateway(oidcEnv(provider, { PORTHOLE_LOCAL_LOGIN: 'false' }));
    try {
      const owner = world.users.owner;
      await control(ssoOnly).put(`/users/${owner.id}`, { email: owner.email, password: owner.password });
      const page = await request(ssoOnly.url).get('/login');
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`Sign in with ${PROVIDER_NAME}`));
      assert.doesNotMatch(page.text, /type="password"/);
      const login = await request(ssoOnly.url).post('/auth/login').set('Origin', ssoOnly.origin).send({ email: owner.email, password: owner.password });
      assert.equal(login.status, 404);
    } finally {
      await ssoOnly.close();
    }
  });
});
