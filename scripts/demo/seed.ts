/**
 * The demo's world, registered through the real control API as a CI orchestrator would: one app
 * whose terminal sessions are recorded, an owner and a tester, a Linux and a macOS-like build.
 */
import type { SshdHandle } from '../../test/helpers/sshd.js';
import type { XvncHandle } from '../../test/helpers/xvnc.js';

export const DEMO_APP_ID = 'demo-app';
export const DEMO_LINUX_BUILD = 'demo-linux';
export const DEMO_MACOS_BUILD = 'demo-macos';

export interface DemoUser {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly role: 'owner' | 'tester';
}

export async function seed(origin: string, token: string, users: readonly DemoUser[], sshd: SshdHandle, xvnc: XvncHandle): Promise<void> {
  const call = async (method: string, path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${origin}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`demo seeding: ${method} ${path} → ${res.status} ${await res.text()}`);
  };
  // Recorded, so that a build's "Session recordings" has something to replay after a terminal session.
  await call('PUT', `/apps/${DEMO_APP_ID}`, { name: 'Demo App', recordSessions: true });
  for (const user of users) {
    await call('PUT', `/users/${user.id}`, { email: user.email, name: user.role === 'owner' ? 'Olivia Owner' : 'Theo Tester', password: user.password });
    await call('PUT', `/apps/${DEMO_APP_ID}/members/${user.id}`, { role: user.role });
  }
  const login = sshd.passwordUser ?? sshd.keyUser;
  const ssh = {
    host: sshd.host,
    port: sshd.port,
    username: login.username,
    ...(login.password ? { password: login.password } : { privateKey: login.privateKey }),
    hostKey: sshd.hostKeyFingerprint,
  };
  const startedAt = new Date().toISOString();
  await call('PUT', `/builds/${DEMO_LINUX_BUILD}`, { appId: DEMO_APP_ID, stack: 'linux', status: 'running', startedAt, triggeredBy: 'demo-owner', remoteAccess: { ssh } });
  await call('PUT', `/builds/${DEMO_MACOS_BUILD}`, {
    appId: DEMO_APP_ID,
    stack: 'macos',
    status: 'running',
    startedAt,
    triggeredBy: 'demo-owner',
    remoteAccess: { ssh, vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } },
  });
}
