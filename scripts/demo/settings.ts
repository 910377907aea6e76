/**
 * The demo's own settings, from its environment. The gateway's settings are built from these and
 * validated again by the gateway's config (server/src/config).
 */
import { resolve } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { z } from 'zod';

/** What the README and docs/operations.md promise: the demo's URL is stable across runs. */
const DEFAULT_GATEWAY_PORT = 8080;
/** The embedding example has no link to keep stable: any free port, printed in the banner. */
const DEFAULT_EXAMPLE_PORT = 0;
const DEFAULT_DEMO_DIR = resolve(import.meta.dirname, '..', '..', '.porthole-demo');

const port = (fallback: number) => z.coerce.number({ error: 'must be a port number (0 picks a free one)' }).int().min(0).max(65535).default(fallback);

const demoEnvSchema = z.object({
  PORT: port(DEFAULT_GATEWAY_PORT),
  PORTHOLE_DEMO_EXAMPLE_PORT: port(DEFAULT_EXAMPLE_PORT),
  // Wiped at every start: it holds only what the demo created (database, recordings, log).
  PORTHOLE_DEMO_DIR: z.string().min(1).default(DEFAULT_DEMO_DIR),
  PORTHOLE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface DemoSettings {
  readonly gatewayPort: number;
  readonly examplePort: number;
  readonly dir: string;
  readonly logLevel: LevelWithSilent;
}

export function demoSettings(env: Readonly<Record<string, string | undefined>>): DemoSettings {
  // As the gateway does: an empty variable means "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = demoEnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid demo setting: ${issue?.path.join('.') ?? 'environment'} ${issue?.message ?? 'is invalid'}`);
  }
  const e = parsed.data;
  return { gatewayPort: e.PORT, examplePort: e.PORTHOLE_DEMO_EXAMPLE_PORT, dir: resolve(e.PORTHOLE_DEMO_DIR), logLevel: e.PORTHOLE_LOG_LEVEL };
}
