/**
 * Request bodies of the control API. Strict objects: an orchestrator's typo (`finshedAt`) is a 400
 * naming the field, not a silently ignored value.
 */
import { z } from 'zod';
import ssh2 from 'ssh2';
import { BUILD_STATUSES, ROLES, STACKS } from '../../../shared/src/roles.js';
import { ID_PATTERN, ID_RULE } from '../../../shared/src/ids.js';
import { SESSION_ID_PATTERN } from '../sessions/session-directory.js';
import { MAX_EXTENSION_STEP_MINUTES, MAX_EXTENSION_TOTAL_MINUTES, MIN_EXTENSION_STEP_MINUTES } from '../access/extension.js';

/** RFC 1123 host names; IP literals are checked separately. */
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Portable POSIX / macOS short user names; no shell metacharacters. */
const VM_USERNAME = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;
const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const MAX_SECRET_CHARS = 1024;
/** An RSA-8192 private key in OpenSSH format is about 6.5 KB. */
const MAX_PRIVATE_KEY_CHARS = 16 * 1024;
const MAX_NAME_CHARS = 200;
const MAX_EMAIL_CHARS = 254;
/** Login passwords: long passphrases are welcome; argon2 input stays bounded. */
const MAX_LOGIN_PASSWORD_CHARS = 1024;
const MIN_LOGIN_PASSWORD_CHARS = 8;
/** OpenID Connect caps `sub` at 255 ASCII characters. */
const MAX_OIDC_SUBJECT_CHARS = 255;

const host = z
  .string()
  .refine((h) => z.ipv4().safeParse(h).success || z.ipv6().safeParse(h).success || HOSTNAME.test(h), 'must be a host name or IP address');
const port = z.number().int().min(1).max(65535);
const isoTime = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a time zone' });

const privateKey = z
  .string()
  .max(MAX_PRIVATE_KEY_CHARS)
  .refine((key) => !(ssh2.utils.parseKey(key) instanceof Error), 'must be an unencrypted OpenSSH or PEM private key');

export const userBody = z.strictObject({
  email: z.email().max(MAX_EMAIL_CHARS),
  name: z.string().min(1).max(MAX_NAME_CHARS).optional(),
  password: z.string().min(MIN_LOGIN_PASSWORD_CHARS).max(MAX_LOGIN_PASSWORD_CHARS).optional(),
  /** The `sub` claim of the user's ID tokens at the OpenID provider; null removes it. */
  oidcSubject: z.string().min(1).max(MAX_OIDC_SUBJECT_CHARS).nullable().optional(),
});

export const appBody = z.strictObject({ name: z.string().min(1).max(MAX_NAME_CHARS), recordSessions: z.boolean().optional() });

export const membershipBody = z.strictObject({ role: z.enum(ROLES) });

const sshEndpoint = z
  .strictObject({
    host,
    port,
    username: z.string().regex(VM_USERNAME, 'must be a user name of letters, digits, ".", "_" or "-"'),
    password: z.string().min(1).max(MAX_SECRET_CHARS).optional(),
    privateKey: privateKey.optional(),
    hostKey: z.string().regex(HOST_KEY_FINGERPRINT, 'must be an SSH fingerprint "SHA256:<base64>"').optional(),
  })
  .refine((s) => s.password !== undefined || s.privateKey !== undefined, { message: 'needs a password or a privateKey' });

const vncEndpoint = z.strictObject({
  host,
  port,
  username: z.string().regex(VM_USERNAME, 'must be a user name of letters, digits, ".", "_" or "-"').optional(),
  password: z.string().min(1).max(MAX_SECRET_CHARS),
});

/** What users may add to the window (../access/extension.ts); whole minutes, as pages show them. */
const extensionsPolicy = z
  .strictObject({
    stepMinutes: z.int().min(MIN_EXTENSION_STEP_MINUTES).max(MAX_EXTENSION_STEP_MINUTES),
    maxMinutes: z.int().min(MIN_EXTENSION_STEP_MINUTES).max(MAX_EXTENSION_TOTAL_MINUTES),
  })
  .refine((e) => e.maxMinutes >= e.stepMinutes, { path: ['maxMinutes'], message: 'must be at least stepMinutes' });

export const buildBody = z
  .strictObject({
    appId: z.string().regex(ID_PATTERN, ID_RULE),
    stack: z.enum(STACKS),
    status: z.enum(BUILD_STATUSES),
    startedAt: isoTime,
    finishedAt: isoTime.optional(),
    triggeredBy: z.string().min(1).max(MAX_NAME_CHARS).optional(),
    remoteAccess: z.strictObject({ ssh: sshEndpoint, vnc: vncEndpoint.optional() }),
    /** Absent: users cannot extend this build's window. */
    extensions: extensionsPolicy.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.stack === 'linux' && b.remoteAccess.vnc !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['remoteAccess', 'vnc'], message: 'is only available on macos builds' });
    }
    if (b.status === 'running' && b.finishedAt !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['finishedAt'], message: 'is only allowed with status finished or aborted' });
    }
    if (b.finishedAt !== undefined && Date.parse(b.finishedAt) < Date.parse(b.startedAt)) {
      ctx.addIssue({ code: 'custom', path: ['finishedAt'], message: 'must not be before startedAt' });
    }
  });

export const finishBody = z.strictObject({ finishedAt: isoTime.optional() });
export const emptyBody = z.strictObject({});
/** A held session to resume, in a page's ticket request (docs/protocol.md, "Resuming"). */
export const sessionIdField = z.string().regex(SESSION_ID_PATTERN, 'must be the sessionId a "ready" message named');

export type BuildBody = z.infer<typeof buildBody>;

/** "remoteAccess.ssh.port: Too big: expected number to be <=65535"; `input` tells missing from wrong. */
export function describeIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const at = path ? `${path}.` : '';
    return `${issue.keys.map((k) => at + k).join(', ')}: unknown field`;
  }
  if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(input, issue.path) === undefined) return `${path}: is required`;
  return path ? `${path}: ${issue.message}` : issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || typeof key === 'symbol' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}
