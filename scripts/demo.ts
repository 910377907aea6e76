/**
 * The demo: a local "build VM" (OpenSSH sshd and, for the macOS-like build, a TigerVNC desktop)
 * on loopback, the gateway on an embedded SQLite file, and an owner and a tester registered
 * through the real control API. Everything it starts stops on Ctrl-C.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../server/src/config/config.js';
import { createLogger } from '../server/src/log.js';
import { SqliteStore } from '../server/src/store/sqlite/sqlite-store.js';
import { createGateway } from '../server/src/gateway.js';
import { startSshd, type SshdHandle } from '../test/helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../test/helpers/xvnc.js';

const DEMO_DIR = resolve(import.meta.dirname, '..', '.porthole-demo');
const CLIENT_DIR = resolve(import.meta.dirname, '..', 'dist', 'client');
const DEFAULT_DEMO_PORT = 8080;

interface DemoUser {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly role: 'owner' | 'tester';
}

async function main(): Promise<void> {
  rmSync(DEMO_DIR, { recursive: true, force: true });
  mkdirSync(DEMO_DIR, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));

  try {
    console.log('Starting the demo VM (sshd and a VNC desktop on 127.0.0.1)…');
    const sshd: SshdHandle = await startSshd({ mode: isRoot ? 'system-users' : 'current-user' });
    stops.push(() => sshd.stop());
    const xvnc: XvncHandle = await startXvnc({ terminalWindow: true });
    stops.push(() => xvnc.stop());

    const controlToken = randomBytes(24).toString('base64url');
    const port = Number(process.env['PORT'] ?? DEFAULT_DEMO_PORT);
    const loaded = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      PORTHOLE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORTHOLE_DATABASE: `sqlite:${resolve(DEMO_DIR, 'porthole.db')}`,
      PORTHOLE_CONTROL_TOKEN: controlToken,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_LOG_LEVEL: process.env['PORTHOLE_LOG_LEVEL'] ?? 'info',
    });
    if (!loaded.ok) throw new Error(loaded.error);
    const { config } = loaded.value;
    const store = SqliteStore.open(resolve(DEMO_DIR, 'porthole.db'));
    const logger = createLogger(config.logLevel);
    const gateway = createGateway({ config, store, logger, clientDir: CLIENT_DIR });
    const server = createServer(gateway.app);
    server.on('upgrade', gateway.handleUpgrade);
    await new Promise<void>((done, fail) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        fail(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use: run with PORT=<another port> npm run demo`) : error),
      );
      server.listen(port, '127.0.0.1', done);
    });
    stops.push(async () => {
      gateway.shutdown();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await store.close();
    });

    const users: DemoUser[] = [
      { id: 'demo-owner', email: 'owner@porthole.demo', password: randomBytes(9).toString('base64url'), role: 'owner' },
      { id: 'demo-tester', email: 'tester@porthole.demo', password: randomBytes(9).toString('base64url'), role: 'tester' },
    ];
    await seed(config.publicOrigin, controlToken, users, sshd, xvnc);

    const vmLogin = sshd.passwordUser ?? sshd.keyUser;
    console.log(`
Porthole demo is running: ${config.publicOrigin}/

  Owner (can use remote access):  ${users[0]?.email}  password ${users[0]?.password}
  Tester/QA (is refused):         ${users[1]?.email}  password ${users[1]?.password}

  Builds: demo-linux (Linux) and demo-macos (macOS-like, with a VNC desktop)
  Demo VM: sshd on 127.0.0.1:${sshd.port} (user ${vmLogin.username}), Xvnc on 127.0.0.1:${xvnc.port}
  Control API: curl -H "Authorization: Bearer ${controlToken}" ${config.publicOrigin}/api/v1/builds/demo-linux

Press Ctrl-C to stop everything.`);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function seed(origin: string, token: string, users: readonly DemoUser[], sshd: SshdHandle, xvnc: XvncHandle): Promise<void> {
  const call = async (method: string, path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${origin}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`demo seeding: ${method} ${path} → ${res.status} ${await res.text()}`);
  };
  await call('PUT', '/apps/demo-app', { name: 'Demo App' });
  for (const user of users) {
    await call('PUT', `/users/${user.id}`, { email: user.email, name: user.role === 'owner' ? 'Olivia Owner' : 'Theo Tester', password: user.password });
    await call('PUT', `/apps/demo-app/members/${user.id}`, { role: user.role });
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
  await call('PUT', '/builds/demo-linux', { appId: 'demo-app', stack: 'linux', status: 'running', startedAt, triggeredBy: 'demo-owner', remoteAccess: { ssh } });
  await call('PUT', '/builds/demo-macos', {
    appId: 'demo-app',
    stack: 'macos',
    status: 'running',
    startedAt,
    triggeredBy: 'demo-owner',
    remoteAccess: { ssh, vnc: { host: xvnc.host, port: xvnc.port, password: xvnc.password } },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
