/** Debian's websockify, the peer the gateway is measured against: a WebSocket-to-TCP relay on loopback. */
import { spawnManaged, type ManagedProcess } from '../../test/helpers/daemon.js';
import { freePort, waitForPort } from '../../test/helpers/ports.js';

const WEBSOCKIFY_PATH = '/usr/bin/websockify';
/** Past this, websockify (a Python program, started on a possibly loaded machine) is taken not to have started. */
const WEBSOCKIFY_START_TIMEOUT_MS = 15_000;

export interface Websockify {
  readonly proc: ManagedProcess;
  readonly port: number;
}

/** websockify on a free loopback port relaying to `target`; `web`: a directory it also serves over HTTP. */
export async function startWebsockify(target: { readonly host: string; readonly port: number }, options: { readonly web?: string } = {}): Promise<Websockify> {
  const port = await freePort();
  const web = options.web === undefined ? [] : ['--web', options.web];
  const proc = spawnManaged(WEBSOCKIFY_PATH, [...web, `127.0.0.1:${port}`, `${target.host}:${target.port}`]);
  await waitForPort('127.0.0.1', port, WEBSOCKIFY_START_TIMEOUT_MS);
  return { proc, port };
}
