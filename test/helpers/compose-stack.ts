/**
 * deploy/compose.yaml as a throwaway stack for test/image/: its own project name, its own env file
 * (secrets made per run, images from scripts/image-bases.sh), removed with its volumes at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerTempDir, runCommand } from './daemon.js';

export const COMPOSE_FILE = resolve(import.meta.dirname, '..', '..', 'deploy', 'compose.yaml');
/** Pulling nothing, `up` waits for PostgreSQL and both nodes to turn healthy: well under this. */
const COMPOSE_UP_TIMEOUT_MS = 180_000;
/** `restart` and `down` wait for each node's drain (stop_grace_period 20 s) at worst. */
const COMPOSE_STOP_TIMEOUT_MS = 120_000;

export interface ComposeStack {
  readonly project: string;
  /** The secrets this run's gateway nodes share. */
  readonly controlToken: string;
  /** `docker-compose <args>` (or `docker compose`) on this stack; resolves with stdout. */
  compose(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** The container of a service, for `docker inspect`. */
  containerOf(service: string): Promise<string>;
  /** The last lines of every service's log, for a failure's diagnostics. */
  logs(): Promise<string>;
  /** Removes the containers, the network and the volumes. */
  down(): Promise<void>;
}

export interface ComposeStackOptions {
  /** Variables the compose file reads besides the secrets (images, public URL, port). */
  readonly env: Readonly<Record<string, string>>;
}

/** `docker-compose` (v1) unless PORTHOLE_COMPOSE names another, e.g. `docker compose`. */
function composeCommand(): [string, ...string[]] {
  const [command = 'docker-compose', ...rest] = (process.env['PORTHOLE_COMPOSE'] ?? 'docker-compose').split(' ').filter((s) => s.length > 0);
  return [command, ...rest];
}

export async function startComposeStack(options: ComposeStackOptions): Promise<ComposeStack> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-compose-'));
  const releaseDir = registerTempDir(dir);
  const project = `porthole-test-${randomBytes(4).toString('hex')}`;
  const controlToken = randomBytes(32).toString('hex');
  const envFile = join(dir, '.env');
  const env: Record<string, string> = {
    POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
    PORTHOLE_SESSION_SECRET: randomBytes(32).toString('hex'),
    PORTHOLE_SECRET_KEY: randomBytes(32).toString('hex'),
    PORTHOLE_CONTROL_TOKEN: controlToken,
    ...options.env,
  };
  writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  const [command, ...prefix] = composeCommand();
  const compose = async (args: readonly string[], timeoutMs = COMPOSE_STOP_TIMEOUT_MS): Promise<string> =>
    (await runCommand(command, [...prefix, '--project-name', project, '--file', COMPOSE_FILE, '--env-file', envFile, ...args], { timeoutMs })).stdout.toString('utf8');
  const stack: ComposeStack = {
    project,
    controlToken,
    compose,
    containerOf: async (service) => (await compose(['ps', '-q', service])).trim(),
    logs: async () => await compose(['logs', '--no-color', '--tail=60']),
    down: async () => {
      try {
        await compose(['down', '--volumes', '--remove-orphans']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        releaseDir();
      }
    },
  };
  try {
    await compose(['up', '--detach', '--no-build'], COMPOSE_UP_TIMEOUT_MS);
  } catch (err) {
    const logs = await stack.logs().catch(() => '');
    await stack.down().catch(() => {});
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`);
  }
  return stack;
}
