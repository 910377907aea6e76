/**
 * One developer on a gateway running as its own process, as the attack tests use it: registered
 * through the control API, signed in with a plain cookie (no supertest agent: the gateway is
 * another process), able to register builds and mint connection tickets with fetch.
 */
import assert from 'node:assert/strict';
import { control } from './seed.js';
import type { GatewayAddress } from './gateway.js';

export interface MintedTicket {
  readonly ticket: string;
  readonly url: string;
  readonly protocol: string;
  readonly expiresAt: string;
}

export interface Attacker {
  /** PUTs a running build of the attacker's app; `remoteAccess` as the control API takes it. */
  putBuild(buildId: string, stack: 'linux' | 'macos', remoteAccess: Record<string, unknown>): Promise<void>;
  mint(buildId: string, kind: 'ssh' | 'vnc'): Promise<MintedTicket>;
}

export async function signUpAttacker(gw: GatewayAddress, password: string): Promise<Attacker> {
  const api = control(gw);
  const put = async (path: string, body: unknown): Promise<void> => assert.ok((await api.put(path, body)).status < 300, path);
  await put('/users/u1', { email: 'u1@example.test', password });
  await put('/apps/a1', { name: 'App' });
  await put('/apps/a1/members/u1', { role: 'developer' });
  const login = await fetch(`${gw.url}/auth/login`, { method: 'POST', headers: { Origin: gw.origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'u1@example.test', password }) });
  assert.equal(login.status, 204);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return {
    putBuild: (buildId, stack, remoteAccess) => put(`/builds/${buildId}`, { appId: 'a1', stack, status: 'running', startedAt: new Date().toISOString(), remoteAccess }),
    async mint(buildId, kind) {
      const res = await fetch(`${gw.origin}/api/v1/builds/${buildId}/connections`, {
        method: 'POST',
        headers: { Origin: gw.origin, Cookie: cookie, 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as MintedTicket;
    },
  };
}
