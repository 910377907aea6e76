/**
 * Registers a small world through the real control API: one user per role on app "app-1", an
 * outsider who belongs only to "app-2", and builds in every window state.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { Role } from '../../shared/src/roles.js';
import type { GatewayAddress } from './gateway.js';

export interface SeededUser {
  readonly id: string;
  readonly email: string;
  readonly password: string;
}

export interface World {
  readonly users: Readonly<Record<Role | 'outsider', SeededUser>>;
  readonly vmSecrets: { readonly sshPassword: string; readonly vncPassword: string };
  readonly builds: {
    readonly linuxRunning: string;
    readonly macRunning: string;
    readonly finishedLongAgo: string;
    readonly otherApp: string;
  };
}

export const HOST_KEY = 'SHA256:Zs2AvYsmDKULSi5iBtHfnj7Z1F5B9MuGvzX/HWuTLnM';

export function control(gw: GatewayAddress): { put: (path: string, body: unknown) => request.Test; post: (path: string, body?: unknown) => request.Test; get: (path: string) => request.Test; del: (path: string) => request.Test } {
  const auth = { Authorization: `Bearer ${gw.controlToken}` };
  return {
    put: (path, body) => request(gw.url).put(`/api/v1${path}`).set(auth).send(body as object),
    post: (path, body) => {
      const req = request(gw.url).post(`/api/v1${path}`).set(auth);
      return body === undefined ? req : req.send(body as object);
    },
    get: (path) => request(gw.url).get(`/api/v1${path}`).set(auth),
    del: (path) => request(gw.url).delete(`/api/v1${path}`).set(auth),
  };
}

const MINUTE_MS = 60_000;
/** Extend's steps on the builds tests let close soon: 15 minutes at a time, at most an hour. */
const CLOSING_BUILD_EXTENSIONS = { stepMinutes: 15, maxMinutes: 60 } as const;

export interface ClosingBuild {
  readonly stack: 'linux' | 'macos';
  readonly remoteAccess: { readonly ssh: NonNullable<SeedOptions['ssh']>; readonly vnc?: SeedOptions['vnc'] };
  /** The gateway's grace after a build finishes (its config's graceMinutes). */
  readonly graceMinutes: number;
  /** Extend's steps; null registers a build that cannot be extended. */
  readonly extensions?: { readonly stepMinutes: number; readonly maxMinutes: number } | null;
}

/**
 * Registers (or replaces) a finished build of app-1 whose access window closes `closesInMinutes`
 * from now: finished that long minus the grace ago, started half an hour before. The control
 * API's answer is the caller's to check.
 */
export function registerClosingBuild(gw: GatewayAddress, id: string, closesInMinutes: number, build: ClosingBuild): request.Test {
  const finishedAt = new Date(Date.now() + (closesInMinutes - build.graceMinutes) * MINUTE_MS);
  const extensions = build.extensions === undefined ? CLOSING_BUILD_EXTENSIONS : build.extensions;
  return control(gw).put(`/builds/${id}`, {
    appId: 'app-1',
    stack: build.stack,
    status: 'finished',
    startedAt: new Date(finishedAt.getTime() - 30 * MINUTE_MS).toISOString(),
    finishedAt: finishedAt.toISOString(),
    remoteAccess: build.remoteAccess,
    ...(extensions === null ? {} : { extensions }),
  });
}

async function ok(test: request.Test): Promise<void> {
  const res = await test;
  if (res.status >= 300) throw new Error(`seeding failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export interface SeedOptions {
  /** The VM's ssh endpoint; hostKey null registers none (the gateway pins on first use). */
  readonly ssh?: { host: string; port: number; username: string; password: string; hostKey?: string | null };
  readonly vnc?: { host: string; port: number; password: string };
}

export async function seedWorld(gw: GatewayAddress, options: SeedOptions = {}): Promise<World> {
  const api = control(gw);
  const secret = (): string => randomBytes(12).toString('base64url');
  const roles: (Role | 'outsider')[] = ['owner', 'admin', 'developer', 'tester', 'outsider'];
  const users = Object.fromEntries(
    roles.map((role) => [role, { id: `user-${role}`, email: `${role}@example.test`, password: `pw-${secret()}` }]),
  ) as Record<Role | 'outsider', SeededUser>;
  for (const user of Object.values(users)) await ok(api.put(`/users/${user.id}`, { email: user.email, name: user.id, password: user.password }));
  await ok(api.put('/apps/app-1', { name: 'Mobile App' }));
  await ok(api.put('/apps/app-2', { name: 'Other App' }));
  for (const role of ['owner', 'admin', 'developer', 'tester'] as const) await ok(api.put(`/apps/app-1/members/${users[role].id}`, { role }));
  await ok(api.put(`/apps/app-2/members/${users.outsider.id}`, { role: 'owner' }));

  const vmSecrets = { sshPassword: options.ssh?.password ?? `ssh-${secret()}`, vncPassword: options.vnc?.password ?? `vnc-${secret()}` };
  const hostKey = options.ssh?.hostKey === undefined ? HOST_KEY : options.ssh.hostKey;
  const ssh = {
    host: options.ssh?.host ?? '127.0.0.1',
    port: options.ssh?.port ?? 2222,
    username: options.ssh?.username ?? 'vagrant',
    password: vmSecrets.sshPassword,
    ...(hostKey === null ? {} : { hostKey }),
  };
  const vnc = { host: options.vnc?.host ?? '127.0.0.1', port: options.vnc?.port ?? 5901, username: 'vagrant', password: vmSecrets.vncPassword };
  const startedAt = new Date(Date.now() - 30 * 60_000).toISOString();
  await ok(api.put('/builds/build-linux', { appId: 'app-1', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh } }));
  await ok(api.put('/builds/build-mac', { appId: 'app-1', stack: 'macos', status: 'running', startedAt, remoteAccess: { ssh, vnc } }));
  const longAgo = new Date(Date.now() - 60 * 60_000);
  await ok(
    api.put('/builds/build-old', {
      appId: 'app-1',
      stack: 'linux',
      status: 'finished',
      startedAt: new Date(longAgo.getTime() - 60_000).toISOString(),
      finishedAt: longAgo.toISOString(),
      remoteAccess: { ssh },
    }),
  );
  await ok(api.put('/builds/build-other', { appId: 'app-2', stack: 'linux', status: 'running', startedAt, remoteAccess: { ssh } }));
  return {
    users,
    vmSecrets,
    builds: { linuxRunning: 'build-linux', macRunning: 'build-mac', finishedLongAgo: 'build-old', otherApp: 'build-other' },
  };
}

/** A cookie-keeping agent signed in as `user`, sending the gateway's own Origin like a browser. */
export async function signIn(gw: GatewayAddress, user: SeededUser): Promise<TestAgent> {
  const agent = request.agent(gw.url);
  const res = await agent.post('/auth/login').set('Origin', gw.origin).send({ email: user.email, password: user.password });
  if (res.status !== 204) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return agent;
}

/** Registers a running Linux build of app-1 with the given ssh endpoint. */
export async function registerLinuxBuild(gw: GatewayAddress, buildId: string, ssh: Record<string, unknown>): Promise<void> {
  await ok(control(gw).put(`/builds/${buildId}`, { appId: 'app-1', stack: 'linux', status: 'running', startedAt: new Date().toISOString(), remoteAccess: { ssh } }));
}
