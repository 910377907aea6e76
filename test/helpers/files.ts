/**
 * Small pieces the files tests share: signing in with the cookie, the files endpoints' URLs, a
 * same-origin GET, and the VM user's home and ownership (the tests run as root on the sshd's machine).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { TestGateway } from './gateway.js';
import type { SeededUser } from './seed.js';

/** The session cookie of `user`, signed in with its password. */
export async function cookieOf(gateway: Pick<TestGateway, 'url' | 'origin'>, user: SeededUser): Promise<string> {
  const res = await fetch(`${gateway.url}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: gateway.origin }, body: JSON.stringify({ email: user.email, password: user.password }), redirect: 'manual' });
  assert.equal(res.status, 204);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  assert.ok(cookie.length > 0);
  return cookie;
}

export function filesUrl(gateway: Pick<TestGateway, 'url'>, buildId: string, what: '' | '/content' | '/archive', query: Record<string, string>): string {
  return `${gateway.url}/api/v1/builds/${buildId}/files${what}?${new URLSearchParams(query).toString()}`;
}

/** A GET as the gateway's own page makes it. */
export async function get(cookie: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin', ...headers } });
}

export function homeOf(user: string): string {
  const home = execFileSync('getent', ['passwd', user]).toString().trim().split(':')[5];
  assert.ok(home, `no home for ${user}`);
  return home;
}

/** Files the VM user owns, as if they had made them in the terminal. */
export function giveTo(user: string, target: string): void {
  execFileSync('chown', ['-R', `${user}:`, target]);
}
