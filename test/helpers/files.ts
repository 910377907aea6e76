/**
 * Small pieces the files tests share: signing in with the cookie, the files endpoints' URLs, a
 * same-origin GET, and the VM user's home and ownership (the tests run as root on the sshd's machine).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { GatewayAddress, TestGateway } from './gateway.js';
import { control, type SeededUser } from './seed.js';
import { pollUntil } from './ports.js';
import type { passwordEndpoint } from './sshd.js';

/** The enforcer ends transfers within 1 s; this only bounds a wait that would otherwise hang. */
const TRANSFER_END_WAIT_MS = 5_000;

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

/** A running Linux build begun an hour ago, registered through the control API: its window is open until it is finished. */
export async function registerRunningBuild(gateway: GatewayAddress, buildId: string, ssh: ReturnType<typeof passwordEndpoint>): Promise<void> {
  const startedAt = new Date(Date.now() - 60 * 60_000).toISOString();
  const registered = await control(gateway).put(`/builds/${buildId}`, { appId: 'app-1', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh } });
  assert.equal(registered.status < 300, true, JSON.stringify(registered.body));
}

/**
 * When the gateway ended a transfer of `buildId` for an access change, by its own log (ms since
 * the epoch): waited for, so a test need not read a response to learn it, and cannot race a fast one.
 */
export async function transferEndedAt(logs: () => readonly Record<string, unknown>[], buildId: string, after = 0): Promise<number> {
  const ended = (): Record<string, unknown> | undefined => logs().find((l) => l['event'] === 'file_transfer_ended' && l['buildId'] === buildId && Number(l['time']) >= after);
  await pollUntil(`a transfer of ${buildId} ended`, TRANSFER_END_WAIT_MS, async () => ended() !== undefined);
  return Number(ended()?.['time']);
}

/** Reads the rest of a response: `cut` when it ended in an error rather than its end; the reader is released either way. */
export async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<{ cut: boolean; bytes: number }> {
  let bytes = 0;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return { cut: false, bytes };
      bytes += next.value.length;
    }
  } catch {
    return { cut: true, bytes };
  } finally {
    // The cut stream's socket is given back now, not left for the gateway's close to wait on.
    await reader.cancel().catch(() => undefined);
  }
}
