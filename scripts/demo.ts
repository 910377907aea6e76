/**
 * The demo: a local "build VM" (OpenSSH sshd and, for the macOS-like build, a TigerVNC desktop)
 * on loopback, the gateway on an embedded SQLite file, an owner and a tester registered through the
 * real control API, and an example dashboard on another loopback site that embeds the terminal.
 * The gateway's log goes to a file so the console keeps the banner. Everything it starts stops on
 * Ctrl-C.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '../server/src/config/config.js';
import { SqliteStore } from '../server/src/store/sqlite/sqlite-store.js';
import { createGateway } from '../server/src/gateway.js';
import { createHttpServer } from '../server/src/http/http-server.js';
import { startSshd, type SshdHandle } from '../test/helpers/sshd.js';
import { startXvnc, type XvncHandle } from '../test/helpers/xvnc.js';
import { demoSettings } from './demo/settings.js';
import { createDemoLog } from './demo/log.js';
import { closeServer, DEMO_HOST, listenOnLoopback } from './demo/listen.js';
import { embedExampleHandler } from './demo/embed-example/server.js';
import { DEMO_LINUX_BUILD, DEMO_MACOS_BUILD, seed, type DemoUser } from './demo/seed.js';

const CLIENT_DIR = resolve(import.meta.dirname, '..', 'dist', 'client');
/** Random bytes in each demo password: short enough to type, too many to guess. */
const DEMO_PASSWORD_BYTES = 9;

async function main(): Promise<void> {
  const settings = demoSettings(process.env);
  rmSync(settings.dir, { recursive: true, force: true });
  mkdirSync(settings.dir, { recursive: true });
  const logFile = join(settings.dir, 'porthole.log');
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

    const server = createHttpServer();
    const port = await listenOnLoopback(server, settings.gatewayPort, 'PORT');
    stops.push(() => closeServer(server));
    const exampleServer = createServer();
    const examplePort = await listenOnLoopback(exampleServer, settings.examplePort, 'PORTHOLE_DEMO_EXAMPLE_PORT');
    stops.push(() => closeServer(exampleServer));
    // Served on 127.0.0.1 but addressed as localhost: another site than the gateway's 127.0.0.1,
    // as a real dashboard is, so no cookie of the gateway's reaches its frames.
    const exampleOrigin = `http://localhost:${examplePort}`;

    const controlToken = randomBytes(24).toString('base64url');
    const loaded = loadConfig({
      PORT: String(port),
      HOST: DEMO_HOST,
      PORTHOLE_PUBLIC_URL: `http://${DEMO_HOST}:${port}`,
      PORTHOLE_DATABASE: `sqlite:${join(settings.dir, 'porthole.db')}`,
      PORTHOLE_CONTROL_TOKEN: controlToken,
      PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
      PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
      PORTHOLE_LOG_LEVEL: settings.logLevel,
      PORTHOLE_EMBED_ORIGINS: exampleOrigin,
    });
    if (!loaded.ok) throw new Error(loaded.error);
    const { config, warnings } = loaded.value;
    const { logger, showProblemsOnConsole } = createDemoLog(settings.logLevel, logFile);
    for (const warning of warnings) logger.warn({ event: 'unsafe_setting' }, warning);
    showProblemsOnConsole();
    const store = SqliteStore.open(join(settings.dir, 'porthole.db'));
    const gateway = createGateway({ config, store, logger, clientDir: CLIENT_DIR });
    server.on('request', gateway.app);
    server.on('upgrade', gateway.handleUpgrade);
    // Live sessions end first, then requests, then the store they use (closing a server twice is harmless).
    stops.push(async () => {
      gateway.shutdown();
      await closeServer(server);
      await store.close();
    });
    logger.info({ event: 'listening', host: DEMO_HOST, port, publicUrl: config.publicUrl.href }, `Porthole listening on ${DEMO_HOST}:${port}`);

    const users: DemoUser[] = [
      { id: 'demo-owner', email: 'owner@porthole.demo', password: randomBytes(DEMO_PASSWORD_BYTES).toString('base64url'), role: 'owner' },
      { id: 'demo-tester', email: 'tester@porthole.demo', password: randomBytes(DEMO_PASSWORD_BYTES).toString('base64url'), role: 'tester' },
    ];
    await seed(config.publicOrigin, controlToken, users, sshd, xvnc);
    exampleServer.on(
      'request',
      embedExampleHandler({
        origin: exampleOrigin,
        gatewayOrigin: config.publicOrigin,
        controlToken,
        userId: 'demo-owner',
        builds: { ssh: DEMO_LINUX_BUILD, vnc: DEMO_MACOS_BUILD },
      }),
    );

    const vmLogin = sshd.passwordUser ?? sshd.keyUser;
    const shownLogFile = displayPath(logFile);
    console.log(`
Porthole demo is running: ${config.publicOrigin}/

  Owner (can use remote access):  ${users[0]?.email}  password ${users[0]?.password}
  Tester/QA (is refused):         ${users[1]?.email}  password ${users[1]?.password}

  Builds: ${DEMO_LINUX_BUILD} (Linux) and ${DEMO_MACOS_BUILD} (macOS-like, with a VNC desktop), both in Demo App,
          whose terminal sessions are recorded: replay them from the build page's Session recordings
  Embedding example (a dashboard on another site, framing the owner's terminal): ${exampleOrigin}/
  Demo VM: sshd on 127.0.0.1:${sshd.port} (user ${vmLogin.username}), Xvnc on 127.0.0.1:${xvnc.port}
  Control API: curl -H "Authorization: Bearer ${controlToken}" ${config.publicOrigin}/api/v1/builds/${DEMO_LINUX_BUILD}
  Gateway log (requests and events; warnings also show here): ${shownLogFile}
    follow it with: tail -f ${shownLogFile}

Press Ctrl-C to stop everything.`);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Relative when under the working directory (npm run demo runs from the repository), else absolute. */
function displayPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.startsWith('..') ? path : fromHere;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
