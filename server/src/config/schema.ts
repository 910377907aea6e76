/**
 * Every setting the gateway reads, validated once at start-up. Names are the environment variable
 * names so an error message points straight at what to fix.
 */
import { z } from 'zod';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
/** Matches the original product: access for 10 minutes after the build ends. */
const DEFAULT_GRACE_MINUTES = 10;
/** A terminal nobody typed into for half an hour is an open door, not a session. */
const DEFAULT_IDLE_MINUTES = 30;
const DEFAULT_DATABASE_FILE = './data/porthole.db';
/** A session secret shorter than this can be brute-forced offline from a cookie. */
const SESSION_SECRET_MIN_CHARS = 32;
/** Bearer tokens shorter than this are guessable; the control API can register users. */
const CONTROL_TOKEN_MIN_CHARS = 16;
/** Two terminals and a screen on a few builds each; more than this from one person is a script. */
const DEFAULT_MAX_CONNECTIONS_PER_USER = 10;
/** Beyond this one user could starve the node's file descriptors. */
const MAX_CONNECTIONS_PER_USER_CEILING = 10_000;
/** Long enough for browsers to get their close frames and VMs their goodbyes, short of a deploy's patience. */
const DEFAULT_DRAIN_SECONDS = 10;
/** A Wi-Fi switch, a reload or a short lid-close; longer, and the shell is someone's forgotten door. */
const DEFAULT_RESUME_SECONDS = 300;
/** A day: past it a held shell is not resumed by anyone, it is abandoned. */
const MAX_RESUME_SECONDS = 24 * 60 * 60;
/** Several screens of a busy build log: enough to rebuild the page after a reload. */
const DEFAULT_RESUME_BUFFER_BYTES = 256 * 1024;
/** One output batch: less could not hold what was sent but not yet acknowledged. */
const MIN_RESUME_BUFFER_BYTES = 64 * 1024;
/** Per held session: a thousand of them must not take the node's memory. */
const MAX_RESUME_BUFFER_BYTES = 16 * 1024 * 1024;
/** An orchestrator kills a stuck process eventually; waiting longer than this only delays the deploy. */
const MAX_DRAIN_SECONDS = 600;
/** A month covers "what happened on last week's build" without keeping terminal content for ever. */
const DEFAULT_RECORDING_RETENTION_DAYS = 30;
const MAX_RECORDING_RETENTION_DAYS = 3650;
/** A year answers "who had access last quarter" and bounds what a flood of refusals can leave behind. */
const DEFAULT_AUDIT_RETENTION_DAYS = 365;
/** Ten years covers any compliance regime we know of. */
const MAX_AUDIT_RETENTION_DAYS = 3650;
/**
 * A node that cannot reach PostgreSQL for this long stops trusting what it last knew and closes its
 * connections: a revocation it cannot hear about must not be outlived by more than this.
 */
const DEFAULT_FAIL_CLOSED_SECONDS = 30;
/** Below this a routine failover or a slow checkpoint would drop every terminal. */
const MIN_FAIL_CLOSED_SECONDS = 2;
const MAX_FAIL_CLOSED_SECONDS = 3600;
const MAX_PROVIDER_NAME_CHARS = 40;
/** A whole DerivedData or simulator image fits; past it an upload is more likely a mistake than a need. */
const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
/** A terabyte through a browser tab is no transfer anyone waits for. */
const MAX_UPLOAD_BYTES_CEILING = 1024 ** 4;
/**
 * An upload whose bytes stop coming this long is cut: it holds a transfer slot and an SSH
 * connection. Long enough for a laptop's Wi-Fi to switch networks.
 */
const DEFAULT_UPLOAD_IDLE_SECONDS = 60;
/** An upload silent for an hour is abandoned, not slow. */
const MAX_UPLOAD_IDLE_SECONDS = 3600;
/**
 * Standard Webhooks secrets are 24 to 64 random bytes, base64 after `whsec_`: shorter is guessable
 * offline from one signed request, longer is not what receivers' libraries expect.
 */
const WEBHOOK_SECRET_MIN_BYTES = 24;
const WEBHOOK_SECRET_MAX_BYTES = 64;
/** Each endpoint gets every event; more than a handful is a fan-out service's job, not the gateway's. */
const MAX_WEBHOOK_ENDPOINTS = 8;
/** Node ids appear in the live view and in pg_stat_activity; keep them short and printable. */
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

const origin = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an origin like https://ci.example.com` });
    return z.NEVER;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null' || url.pathname !== '/' || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an origin like https://ci.example.com` });
    return z.NEVER;
  }
  return url.origin;
});

/**
 * An origin exactly as a browser sends it in `Origin` and as CSP `frame-ancestors` matches it:
 * scheme, lower-case host and non-default port, nothing else. Framing is granted by exact match,
 * so a value that only looks right (a trailing slash, a wildcard, a default port) is refused.
 */
const exactOrigin = z.string().transform((value, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value || url.hostname.includes('*')) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not an exact origin like https://ci.example.com (scheme, lower-case host and port only: no path, trailing slash, wildcard or default port)`,
    });
    return z.NEVER;
  }
  return url.origin;
});

const originList = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .pipe(z.array(item));

const webhookUrl = z.string().transform((value, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an http(s) URL like https://ci.example.com/porthole-events (without credentials in it)` });
    return z.NEVER;
  }
  return url.href;
});

const webhookSecret = z.string().refine(
  (value) => {
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
    if (!match?.[1]) return false;
    const bytes = Buffer.from(match[1], 'base64').length;
    return bytes >= WEBHOOK_SECRET_MIN_BYTES && bytes <= WEBHOOK_SECRET_MAX_BYTES;
  },
  { message: `must be whsec_ followed by ${WEBHOOK_SECRET_MIN_BYTES}–${WEBHOOK_SECRET_MAX_BYTES} random bytes in base64 (e.g. \`echo whsec_$(openssl rand -base64 32)\`)` },
);

export const databaseSetting = z
  .string()
  .min(1)
  .transform((value, ctx) => {
    if (value.startsWith('sqlite:')) {
      const path = value.slice('sqlite:'.length);
      if (!path) {
        ctx.addIssue({ code: 'custom', message: 'sqlite: needs a file path, e.g. sqlite:/var/lib/porthole/porthole.db' });
        return z.NEVER;
      }
      return { kind: 'sqlite' as const, path };
    }
    if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
      try {
        new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a valid postgres:// URL' });
        return z.NEVER;
      }
      return { kind: 'postgres' as const, url: value };
    }
    ctx.addIssue({ code: 'custom', message: 'must be sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE' });
    return z.NEVER;
  });

export const envSchema = z.object({
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(DEFAULT_PORT),
  HOST: z.string().min(1).default(DEFAULT_HOST),
  PORTHOLE_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://porthole.example.com' }).optional(),
  PORTHOLE_DATABASE: databaseSetting.default({ kind: 'sqlite', path: DEFAULT_DATABASE_FILE }),
  PORTHOLE_CONTROL_TOKEN: z.string().min(CONTROL_TOKEN_MIN_CHARS, `must be at least ${CONTROL_TOKEN_MIN_CHARS} characters`).optional(),
  PORTHOLE_SESSION_SECRET: z
    .string({ error: `is required (at least ${SESSION_SECRET_MIN_CHARS} random characters)` })
    .min(SESSION_SECRET_MIN_CHARS, `must be at least ${SESSION_SECRET_MIN_CHARS} characters`),
  PORTHOLE_SECRET_KEY: z
    .string({ error: 'is required (64 hex characters; e.g. `openssl rand -hex 32`)' })
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters (e.g. `openssl rand -hex 32`)'),
  PORTHOLE_GRACE_MINUTES: z.coerce.number({ error: 'must be a number of minutes' }).min(0).max(24 * 60).default(DEFAULT_GRACE_MINUTES),
  PORTHOLE_IDLE_MINUTES: z.coerce.number({ error: 'must be a number of minutes' }).positive().max(24 * 60).default(DEFAULT_IDLE_MINUTES),
  PORTHOLE_ALLOWED_ORIGINS: originList(origin),
  /** Dashboards that may frame the embed pages (docs/embedding.md). */
  PORTHOLE_EMBED_ORIGINS: originList(exactOrigin),
  PORTHOLE_SHOW_NATIVE_CREDENTIALS: booleanText.default(true),
  PORTHOLE_TRUST_PROXY: booleanText.default(false),
  PORTHOLE_MAX_CONNECTIONS_PER_USER: z.coerce
    .number({ error: 'must be a whole number' })
    .int()
    .min(1)
    .max(MAX_CONNECTIONS_PER_USER_CEILING)
    .default(DEFAULT_MAX_CONNECTIONS_PER_USER),
  PORTHOLE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORTHOLE_METRICS_TOKEN: z.string().min(CONTROL_TOKEN_MIN_CHARS, `must be at least ${CONTROL_TOKEN_MIN_CHARS} characters`).optional(),
  PORTHOLE_RESUME_SECONDS: z.coerce.number({ error: 'must be a whole number of seconds' }).int().min(0).max(MAX_RESUME_SECONDS).default(DEFAULT_RESUME_SECONDS),
  PORTHOLE_RESUME_BUFFER_BYTES: z.coerce
    .number({ error: 'must be a whole number of bytes' })
    .int()
    .min(MIN_RESUME_BUFFER_BYTES)
    .max(MAX_RESUME_BUFFER_BYTES)
    .default(DEFAULT_RESUME_BUFFER_BYTES),
  PORTHOLE_DRAIN_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).positive().max(MAX_DRAIN_SECONDS).default(DEFAULT_DRAIN_SECONDS),
  PORTHOLE_RECORDINGS_DIR: z.string().min(1).optional(),
  PORTHOLE_RECORDING_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .positive()
    .max(MAX_RECORDING_RETENTION_DAYS)
    .default(DEFAULT_RECORDING_RETENTION_DAYS),
  PORTHOLE_RECORD_ALL: booleanText.default(false),
  // Pairing (docs/operations.md "Pairing").
  PORTHOLE_WATCH: booleanText.default(true),
  // Files (docs/operations.md "Files").
  PORTHOLE_FILE_TRANSFER: z.enum(['on', 'download', 'off'], { error: 'must be on, download or off' }).default('on'),
  PORTHOLE_MAX_UPLOAD_BYTES: z.coerce.number({ error: 'must be a whole number of bytes' }).int().min(1).max(MAX_UPLOAD_BYTES_CEILING).default(DEFAULT_MAX_UPLOAD_BYTES),
  PORTHOLE_UPLOAD_IDLE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).positive().max(MAX_UPLOAD_IDLE_SECONDS).default(DEFAULT_UPLOAD_IDLE_SECONDS),
  PORTHOLE_AUDIT_RETENTION_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .positive()
    .max(MAX_AUDIT_RETENTION_DAYS)
    .default(DEFAULT_AUDIT_RETENTION_DAYS),
  // Scale-out (docs/operations.md "Several nodes").
  PORTHOLE_NODE_ID: z.string().regex(NODE_ID, 'must be 1–64 letters, digits, ".", "_" or "-"').optional(),
  PORTHOLE_NODE_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL other nodes reach this one at, such as http://10.0.0.5:8080' }).optional(),
  PORTHOLE_FAIL_CLOSED_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .min(MIN_FAIL_CLOSED_SECONDS)
    .max(MAX_FAIL_CLOSED_SECONDS)
    .default(DEFAULT_FAIL_CLOSED_SECONDS),
  // Single sign-on (docs/operations.md "Single sign-on").
  PORTHOLE_OIDC_ISSUER: z.url({ protocol: /^https?$/, error: 'must be the issuer URL, e.g. https://login.example.com/realms/ci' }).optional(),
  PORTHOLE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  PORTHOLE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  PORTHOLE_OIDC_PROVIDER_NAME: z.string().min(1).max(MAX_PROVIDER_NAME_CHARS).default('single sign-on'),
  PORTHOLE_LOCAL_LOGIN: booleanText.default(true),
  // Webhooks (docs/operations.md "Webhooks").
  PORTHOLE_WEBHOOK_URL: originList(webhookUrl).pipe(z.array(z.string()).max(MAX_WEBHOOK_ENDPOINTS, `lists at most ${MAX_WEBHOOK_ENDPOINTS} endpoints`)),
  PORTHOLE_WEBHOOK_SECRET: webhookSecret.optional(),
});

export type EnvInput = z.input<typeof envSchema>;
