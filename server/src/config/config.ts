import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { envSchema } from './schema.js';
import { err, ok, type Result } from '../../../shared/src/result.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Origin-only form of the public URL, e.g. https://porthole.example.com */
  readonly publicOrigin: string;
  readonly publicUrl: URL;
  readonly secureCookies: boolean;
  readonly database: { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly controlToken: string | null;
  readonly sessionSecret: string;
  readonly secretKey: Buffer;
  readonly graceMinutes: number;
  /** Connections without user input for this long are closed (4002). */
  readonly idleMinutes: number;
  /** Origins besides the public one that may open WebSockets (embedding dashboards). */
  readonly allowedOrigins: readonly string[];
  /** Dashboards whose pages may frame the embed pages; empty disables embedding. */
  readonly embedOrigins: readonly string[];
  readonly showNativeCredentials: boolean;
  readonly trustProxy: boolean;
  /** Live WebSocket connections one user may hold on this node. */
  readonly maxConnectionsPerUser: number;
  readonly logLevel: string;
  /** This process in the live view and the cluster's bookkeeping; unique per process. */
  readonly nodeId: string;
  /**
   * Where the other nodes reach this one (PORTHOLE_NODE_URL, no trailing slash), to relay a page
   * resuming a session held here; null: sessions held here are resumed only through this node.
   */
  readonly nodeUrl: string | null;
  /** PORTHOLE_WATCH: members may watch (and, when let, co-drive) each other's live sessions. */
  readonly watch: boolean;
  /** PORTHOLE_FILE_TRANSFER: on (list, download, upload), download (no uploads) or off. */
  readonly fileTransfer: 'on' | 'download' | 'off';
  /** PORTHOLE_MAX_UPLOAD_BYTES: the largest upload accepted. */
  readonly maxUploadBytes: number;
  /** PORTHOLE_UPLOAD_IDLE_SECONDS: an upload whose bytes stop coming this long is cut. */
  readonly uploadIdleSeconds: number;
  /** With PostgreSQL: cut off from the database this long, the node closes its connections. */
  readonly failClosedSeconds: number;
  /** OpenID Connect sign-in, when configured. */
  readonly oidc: OidcConfig | null;
  /** Email + password sign-in; off leaves only OpenID Connect. */
  readonly localLogin: boolean;
  /** Bearer token of /metrics; the control token unless set separately; null disables /metrics. */
  readonly metricsToken: string | null;
  /** On SIGTERM, live connections are closed and the process exits within this many seconds. */
  readonly drainSeconds: number;
  /** Terminal sessions whose page dropped are held this long for it to resume them; 0: never held. */
  readonly resumeSeconds: number;
  /** Output a terminal session keeps for a page resuming it, beyond what the page has not acknowledged. */
  readonly resumeBufferBytes: number;
  readonly recordings: RecordingSettings;
  /** Audit rows older than this many days are deleted. */
  readonly auditRetentionDays: number;
  /** Signed webhooks to the orchestrator (PORTHOLE_WEBHOOK_URL, PORTHOLE_WEBHOOK_SECRET); null: none sent. */
  readonly webhooks: WebhookSettings | null;
}

export interface WebhookSettings {
  /** Every event goes to each of these, in order per build. */
  readonly endpoints: readonly string[];
  /** Standard Webhooks secret, `whsec_<base64>`. */
  readonly secret: string;
}

export interface RecordingSettings {
  /** Where asciicast files are written (created 0700); default `recordings/` beside the database. */
  readonly dir: string;
  /** Recordings older than this are deleted. */
  readonly retentionDays: number;
  /** Record every terminal, whatever each app's `recordSessions` says. */
  readonly recordAll: boolean;
}

export interface OidcConfig {
  readonly issuer: URL;
  readonly clientId: string;
  /** null: a public client (PKCE alone). */
  readonly clientSecret: string | null;
  /** Shown on the button: "Sign in with <providerName>". */
  readonly providerName: string;
  /** Where the provider sends the browser back: <public URL>/auth/oidc/callback. */
  readonly redirectUri: URL;
}

/** With PostgreSQL there is no database file to sit beside; several nodes should share a mount. */
const DEFAULT_NETWORKED_RECORDINGS_DIR = './data/recordings';
/** Two processes on one host with the same hostname still get different ids. */
const NODE_SUFFIX_BYTES = 4;

export interface LoadedConfig {
  readonly config: Config;
  /** Unsafe-but-allowed settings, to be logged loudly at start-up. */
  readonly warnings: readonly string[];
}

/** The database URL may carry a password. */
const ENV_PREFIX_SECRETS = [
  'PORTHOLE_CONTROL_TOKEN',
  'PORTHOLE_METRICS_TOKEN',
  'PORTHOLE_SESSION_SECRET',
  'PORTHOLE_SECRET_KEY',
  'PORTHOLE_OIDC_CLIENT_SECRET',
  'PORTHOLE_WEBHOOK_SECRET',
  'PORTHOLE_DATABASE',
] as const;
/** Where the provider redirects back to, under the public URL. */
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';

/**
 * Parses the environment once. The error is a single line naming the first bad variable, which is
 * what an operator reading a crash-looping container needs.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Result<LoadedConfig, string> {
  // An empty variable (`FOO=` in a unit file or compose file) means "not set", not "set to empty".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    return err(`Invalid configuration: ${name} ${issue?.message ?? 'is invalid'}`);
  }
  const e = parsed.data;
  if (e.PORTHOLE_PUBLIC_URL === undefined && !isLoopbackHost(e.HOST)) {
    return err(`Invalid configuration: PORTHOLE_PUBLIC_URL is required when HOST (${e.HOST}) is not a loopback address`);
  }
  const publicUrl = new URL(e.PORTHOLE_PUBLIC_URL ?? `http://${formatHost(e.HOST)}:${e.PORT}`);
  const warnings: string[] = [];
  if (publicUrl.protocol === 'https:' && !e.PORTHOLE_TRUST_PROXY) {
    warnings.push(
      'PORTHOLE_PUBLIC_URL is https but PORTHOLE_TRUST_PROXY is off: behind a TLS-terminating proxy, Porthole sees plain http and will not set its Secure session cookie, so sign-ins will not stick.',
    );
  }
  if (publicUrl.protocol === 'http:' && !isLoopbackHost(publicUrl.hostname)) {
    warnings.push(
      `PORTHOLE_PUBLIC_URL is plain http on a non-loopback host (${publicUrl.host}): session cookies and terminal traffic travel unencrypted. Put Porthole behind TLS.`,
    );
  }
  if (e.PORTHOLE_CONTROL_TOKEN === undefined) {
    warnings.push('PORTHOLE_CONTROL_TOKEN is not set: the control API is disabled and answers 503.');
  }
  if (e.PORTHOLE_SHOW_NATIVE_CREDENTIALS) {
    warnings.push('PORTHOLE_SHOW_NATIVE_CREDENTIALS is on: allowed users can reveal VM passwords for native clients (each reveal is audited).');
  }
  const oidc = oidcSettings(e, publicUrl);
  if (!oidc.ok) return err(oidc.error);
  if (!e.PORTHOLE_LOCAL_LOGIN && oidc.value === null) {
    return err('Invalid configuration: PORTHOLE_LOCAL_LOGIN is false but PORTHOLE_OIDC_ISSUER is not set: nobody could sign in');
  }
  if (e.PORTHOLE_DATABASE.kind === 'postgres' && e.PORTHOLE_RESUME_SECONDS > 0 && e.PORTHOLE_NODE_URL === undefined) {
    warnings.push(
      'PORTHOLE_NODE_URL is not set: terminal sessions held on this node can be resumed only by a page that reaches this node, not through the other nodes behind the load balancer.',
    );
  }
  const webhooks = webhookSettings(e.PORTHOLE_WEBHOOK_URL, e.PORTHOLE_WEBHOOK_SECRET);
  if (!webhooks.ok) return err(webhooks.error);
  warnings.push(...webhooks.value.warnings);
  warnings.push(...embedWarnings(e.PORTHOLE_EMBED_ORIGINS, publicUrl, e.PORTHOLE_CONTROL_TOKEN !== undefined));
  const config: Config = Object.freeze({
    port: e.PORT,
    host: e.HOST,
    publicOrigin: publicUrl.origin,
    publicUrl,
    secureCookies: publicUrl.protocol === 'https:',
    database: Object.freeze(e.PORTHOLE_DATABASE),
    controlToken: e.PORTHOLE_CONTROL_TOKEN ?? null,
    sessionSecret: e.PORTHOLE_SESSION_SECRET,
    secretKey: Buffer.from(e.PORTHOLE_SECRET_KEY, 'hex'),
    graceMinutes: e.PORTHOLE_GRACE_MINUTES,
    idleMinutes: e.PORTHOLE_IDLE_MINUTES,
    allowedOrigins: Object.freeze([...e.PORTHOLE_ALLOWED_ORIGINS]),
    embedOrigins: Object.freeze([...new Set(e.PORTHOLE_EMBED_ORIGINS)]),
    showNativeCredentials: e.PORTHOLE_SHOW_NATIVE_CREDENTIALS,
    trustProxy: e.PORTHOLE_TRUST_PROXY,
    maxConnectionsPerUser: e.PORTHOLE_MAX_CONNECTIONS_PER_USER,
    logLevel: e.PORTHOLE_LOG_LEVEL,
    nodeId: e.PORTHOLE_NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${randomBytes(NODE_SUFFIX_BYTES).toString('hex')}`,
    nodeUrl: e.PORTHOLE_NODE_URL === undefined ? null : new URL(e.PORTHOLE_NODE_URL).href.replace(/\/+$/, ''),
    failClosedSeconds: e.PORTHOLE_FAIL_CLOSED_SECONDS,
    oidc: oidc.value,
    localLogin: e.PORTHOLE_LOCAL_LOGIN,
    metricsToken: e.PORTHOLE_METRICS_TOKEN ?? e.PORTHOLE_CONTROL_TOKEN ?? null,
    drainSeconds: e.PORTHOLE_DRAIN_SECONDS,
    resumeSeconds: e.PORTHOLE_RESUME_SECONDS,
    resumeBufferBytes: e.PORTHOLE_RESUME_BUFFER_BYTES,
    watch: e.PORTHOLE_WATCH,
    fileTransfer: e.PORTHOLE_FILE_TRANSFER,
    maxUploadBytes: e.PORTHOLE_MAX_UPLOAD_BYTES,
    uploadIdleSeconds: e.PORTHOLE_UPLOAD_IDLE_SECONDS,
    recordings: Object.freeze({
      // Beside the database by default: one directory to back up and to protect.
      dir: e.PORTHOLE_RECORDINGS_DIR ?? (e.PORTHOLE_DATABASE.kind === 'sqlite' ? join(dirname(e.PORTHOLE_DATABASE.path), 'recordings') : DEFAULT_NETWORKED_RECORDINGS_DIR),
      retentionDays: e.PORTHOLE_RECORDING_RETENTION_DAYS,
      recordAll: e.PORTHOLE_RECORD_ALL,
    }),
    auditRetentionDays: e.PORTHOLE_AUDIT_RETENTION_DAYS,
    webhooks: webhooks.value.settings,
  });
  return ok({ config, warnings });
}

/** Removes secrets from the process environment once read, so child processes and dumps miss them. */
export function scrubSecretsFromEnv(env: Record<string, string | undefined>): void {
  for (const name of ENV_PREFIX_SECRETS) delete env[name];
}

function oidcSettings(e: ReturnType<typeof envSchema.parse>, publicUrl: URL): Result<OidcConfig | null, string> {
  if (e.PORTHOLE_OIDC_ISSUER === undefined) {
    const stray = e.PORTHOLE_OIDC_CLIENT_ID !== undefined ? 'PORTHOLE_OIDC_CLIENT_ID' : e.PORTHOLE_OIDC_CLIENT_SECRET !== undefined ? 'PORTHOLE_OIDC_CLIENT_SECRET' : null;
    return stray === null ? ok(null) : err(`Invalid configuration: ${stray} is set but PORTHOLE_OIDC_ISSUER is not`);
  }
  if (e.PORTHOLE_OIDC_CLIENT_ID === undefined) return err('Invalid configuration: PORTHOLE_OIDC_CLIENT_ID is required with PORTHOLE_OIDC_ISSUER');
  const issuer = new URL(e.PORTHOLE_OIDC_ISSUER);
  // Discovery and the token exchange carry the client secret and the user's identity.
  if (issuer.protocol !== 'https:' && !isLoopbackHost(issuer.hostname)) {
    return err(`Invalid configuration: PORTHOLE_OIDC_ISSUER must be https (plain http only on a loopback address)`);
  }
  return ok(
    Object.freeze({
      issuer,
      clientId: e.PORTHOLE_OIDC_CLIENT_ID,
      clientSecret: e.PORTHOLE_OIDC_CLIENT_SECRET ?? null,
      providerName: e.PORTHOLE_OIDC_PROVIDER_NAME,
      redirectUri: new URL(OIDC_CALLBACK_PATH, publicUrl),
    }),
  );
}

/**
 * Endpoints without a secret would send unsigned events an attacker could forge: refused. A secret
 * without endpoints is harmless but probably a mistake: warned. Plain http off-host lets anyone on
 * the path read who is on which build: warned loudly, allowed for private networks.
 */
export function webhookSettings(
  endpoints: readonly string[],
  secret: string | undefined,
): Result<{ readonly settings: WebhookSettings | null; readonly warnings: readonly string[] }, string> {
  if (endpoints.length === 0) {
    return ok({ settings: null, warnings: secret === undefined ? [] : ['PORTHOLE_WEBHOOK_SECRET is set but PORTHOLE_WEBHOOK_URL is not: no webhooks are sent.'] });
  }
  if (secret === undefined) return err('Invalid configuration: PORTHOLE_WEBHOOK_SECRET is required with PORTHOLE_WEBHOOK_URL (events are signed)');
  const warnings = endpoints
    .map((endpoint) => new URL(endpoint))
    .filter((url) => url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    .map(
      (url) =>
        `PORTHOLE_WEBHOOK_URL includes ${url.origin}, plain http on a non-loopback host: events (who is on which build) travel unencrypted. Signatures stop forgery, not reading. Use https.`,
    );
  return ok({ settings: Object.freeze({ endpoints: Object.freeze([...new Set(endpoints)]), secret }), warnings });
}

/** Embedding settings that work but put users at risk, or that cannot work at all. */
function embedWarnings(embedOrigins: readonly string[], publicUrl: URL, controlApiEnabled: boolean): string[] {
  if (embedOrigins.length === 0) return [];
  const warnings: string[] = [];
  for (const origin of embedOrigins) {
    const url = new URL(origin);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      warnings.push(
        `PORTHOLE_EMBED_ORIGINS includes ${origin}, plain http on a non-loopback host: anyone on the network path can rewrite that dashboard and drive the terminals and screens it embeds. Use https.`,
      );
    }
  }
  if (publicUrl.protocol === 'http:' && embedOrigins.some((origin) => origin.startsWith('https:'))) {
    warnings.push('PORTHOLE_EMBED_ORIGINS lists https dashboards but PORTHOLE_PUBLIC_URL is plain http: browsers refuse an http frame inside an https page.');
  }
  if (!controlApiEnabled) {
    warnings.push('PORTHOLE_EMBED_ORIGINS is set but PORTHOLE_CONTROL_TOKEN is not: embed sessions are launched through the control API, so embedding cannot be used.');
  }
  return warnings;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\./.test(hostname);
}
