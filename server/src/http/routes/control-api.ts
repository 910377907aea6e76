/**
 * Control API for the CI orchestrator (docs/api.md). Bearer-token authenticated, JSON only, and
 * idempotent PUTs: the orchestrator can replay any call after a timeout.
 */
import express, { Router, type Request, type RequestHandler } from 'express';
import { CONTROL_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import type { z } from 'zod';
import { parseId, type AppId, type BuildId, type UserId } from '../../../../shared/src/ids.js';
import type { AppView, LiveSessionsView, MembershipView, UserView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { Store, UserRecord, BuildRecord } from '../../store/store.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { hashPassword, verifyPassword } from '../../auth/passwords.js';
import { changesSignIn } from '../../auth/sign-in-change.js';
import { newSessionEpoch } from '../../store/session-epoch.js';
import { closeTimeAfterFinish } from '../../access/access-window.js';
import { appBody, buildBody, describeIssue, emptyBody, finishBody, membershipBody, userBody, type BuildBody } from '../control-schemas.js';
import { toBuildView } from '../../access/build-access.js';
import { vmSecretContext, type VmSecretField } from '../../domain/vm-secrets.js';
import { endpointFingerprints, keepSealedIfSame } from '../../domain/vm-endpoint.js';
import type { Logger } from '../../log.js';
import type { AccessChanges } from '../../cluster/access-changes.js';
import type { LiveConnectionDirectory } from '../../cluster/live-connections.js';
import { requireBearerToken } from '../middleware/bearer-token.js';

export interface ControlApiDeps {
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly controlToken: string | null;
  readonly graceMinutes: number;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Told about every window and membership change, so live connections (on every node) follow at once. */
  readonly enforcer: AccessChanges;
  /** Live connections on every node, for GET /builds/{buildId}/sessions. */
  readonly liveSessions: LiveConnectionDirectory;
}

/** The control API's token check, shared with the audit endpoint. */
export function requireControlToken(token: string | null): RequestHandler {
  return requireBearerToken(token, new GatewayError('control_api_disabled', 'The control API is disabled: set PORTHOLE_CONTROL_TOKEN.'), 'control token');
}

export function controlApiRouter(deps: ControlApiDeps): Router {
  const router = Router();
  // The token is checked before the body is read: strangers learn nothing from parse errors.
  const checkToken = requireControlToken(deps.controlToken);
  const parseJson = express.json({ limit: CONTROL_BODY_LIMIT_BYTES, strict: true });
  const auth: RequestHandler = (req, res, next) => {
    checkToken(req, res, (error?: unknown) => (error ? next(error) : parseJson(req, res, next)));
  };
  const { store } = deps;

  router.put('/users/:userId', auth, async (req, res) => {
    const userId = idParam<UserId>(req, 'userId');
    const body = parseBody(req, userBody, true);
    const clash = await store.getUserByEmail(body.email);
    if (clash && clash.id !== userId) throw new GatewayError('conflict', `email: already registered to another user`);
    const subjectHolder = typeof body.oidcSubject === 'string' ? await store.getUserByOidcSubject(body.oidcSubject) : null;
    if (subjectHolder && subjectHolder.id !== userId) throw new GatewayError('conflict', `oidcSubject: already registered to another user`);
    const existing = await store.getUser(userId);
    // Verified against the stored hash first: a replayed PUT keeps the user's sessions (and hash).
    const passwordIsStored = body.password === undefined || !existing ? undefined : await verifyPassword(existing.passwordHash, body.password);
    const passwordHash = body.password === undefined || passwordIsStored === true ? undefined : await hashPassword(body.password);
    const signInChanged = changesSignIn(existing, {
      email: body.email,
      ...(body.oidcSubject === undefined ? {} : { oidcSubject: body.oidcSubject }),
      ...(passwordIsStored === undefined ? {} : { passwordIsStored }),
    });
    const { record, created } = await store.upsertUser({
      id: userId,
      email: body.email,
      name: body.name ?? null,
      ...(passwordHash === undefined ? {} : { passwordHash }),
      ...(body.oidcSubject === undefined ? {} : { oidcSubject: body.oidcSubject }),
      ...(signInChanged ? { sessionEpoch: newSessionEpoch() } : {}),
    });
    if (signInChanged) {
      // The new epoch already refuses their sessions, credentials and tickets; the rows and live connections go now.
      await store.destroyUserSessions(userId);
      deps.enforcer.signInChanged(userId);
      deps.logger.info({ event: 'user_sign_in_changed', userId }, 'sign-in changed: sessions and connections ended');
    }
    res.status(created ? 201 : 200).json(toUserView(record));
  });

  router.delete('/users/:userId', auth, async (req, res) => {
    const userId = idParam<UserId>(req, 'userId');
    if (!(await store.deleteUser(userId))) throw new GatewayError('not_found', `user ${userId} not found`);
    // Their sign-in sessions go with the row (and a session epoch no new user can match); live connections now.
    deps.enforcer.userRemoved(userId);
    deps.logger.info({ event: 'user_deleted', userId }, 'user deleted');
    res.status(204).end();
  });

  router.put('/apps/:appId', auth, async (req, res) => {
    const appId = idParam<AppId>(req, 'appId');
    const body = parseBody(req, appBody, true);
    const { record, created } = await store.upsertApp({ id: appId, name: body.name, ...(body.recordSessions === undefined ? {} : { recordSessions: body.recordSessions }) });
    res.status(created ? 201 : 200).json({ id: record.id, name: record.name, recordSessions: record.recordSessions } satisfies AppView);
  });

  router.put('/apps/:appId/members/:userId', auth, async (req, res) => {
    const appId = idParam<AppId>(req, 'appId');
    const userId = idParam<UserId>(req, 'userId');
    const body = parseBody(req, membershipBody, true);
    if (!(await store.getApp(appId))) throw new GatewayError('not_found', `app ${appId} not found`);
    if (!(await store.getUser(userId))) throw new GatewayError('not_found', `user ${userId} not found`);
    const { record, created } = await store.putMembership({ appId, userId, role: body.role });
    deps.enforcer.membershipChanged(appId, userId, body.role);
    res.status(created ? 201 : 200).json(record satisfies MembershipView);
  });

  router.delete('/apps/:appId/members/:userId', auth, async (req, res) => {
    const appId = idParam<AppId>(req, 'appId');
    const userId = idParam<UserId>(req, 'userId');
    if (!(await store.deleteMembership(appId, userId))) {
      throw new GatewayError('not_found', `user ${userId} is not a member of app ${appId}`);
    }
    deps.enforcer.membershipChanged(appId, userId, null);
    res.status(204).end();
  });

  router.put('/builds/:buildId', auth, async (req, res) => {
    const buildId = idParam<BuildId>(req, 'buildId');
    const body = parseBody(req, buildBody, true);
    if (!(await store.getApp(body.appId as AppId))) throw new GatewayError('not_found', `app ${body.appId} not found`);
    const existing = await store.getBuild(buildId);
    if (existing?.closesAt && body.status === 'running') {
      throw new GatewayError('conflict', 'status: this build already ended; a rebuild is a new build id');
    }
    const { record, created } = await store.upsertBuild(buildRecordFrom(buildId, body, existing, deps));
    // Another app or another VM: live connections are re-checked (4001) or ended (4005) on every node.
    deps.enforcer.buildChanged(record.id, { appId: record.appId, endpoints: endpointFingerprints(record) });
    deps.enforcer.windowChanged(record.id, record.closesAt, 'update');
    res.status(created ? 201 : 200).json(toBuildView(record));
  });

  router.post('/builds/:buildId/finish', auth, async (req, res) => {
    const buildId = idParam<BuildId>(req, 'buildId');
    const body = parseBody(req, finishBody, false);
    const finishedAt = body.finishedAt === undefined ? deps.now() : new Date(body.finishedAt);
    const existing = await store.getBuild(buildId);
    if (!existing) throw new GatewayError('not_found', `build ${buildId} not found`);
    if (finishedAt.getTime() < existing.startedAt.getTime()) throw new GatewayError('invalid_field', 'finishedAt: must not be before startedAt');
    const build = await store.finishBuild(buildId, finishedAt, closeTimeAfterFinish(finishedAt, deps.graceMinutes, existing.extendedMs));
    if (!build) throw new GatewayError('not_found', `build ${buildId} not found`);
    deps.enforcer.windowChanged(build.id, build.closesAt, 'finish');
    deps.logger.info({ event: 'build_finished', buildId, closesAt: build.closesAt?.toISOString() }, 'build finished');
    res.json(toBuildView(build));
  });

  router.post('/builds/:buildId/revoke', auth, async (req, res) => {
    const buildId = idParam<BuildId>(req, 'buildId');
    parseBody(req, emptyBody, false);
    const build = await store.narrowWindow(buildId, deps.now());
    if (!build) throw new GatewayError('not_found', `build ${buildId} not found`);
    deps.enforcer.windowChanged(build.id, build.closesAt, 'revoke');
    res.json(toBuildView(build));
  });

  router.get('/builds/:buildId/sessions', auth, async (req, res) => {
    const buildId = idParam<BuildId>(req, 'buildId');
    if (!(await store.getBuild(buildId))) throw new GatewayError('not_found', `build ${buildId} not found`);
    res.json({ sessions: await deps.liveSessions.list(buildId) } satisfies LiveSessionsView);
  });

  router.get('/builds/:buildId', auth, async (req, res) => {
    const buildId = idParam<BuildId>(req, 'buildId');
    const build = await store.getBuild(buildId);
    if (!build) throw new GatewayError('not_found', `build ${buildId} not found`);
    res.json(toBuildView(build));
  });

  return router;
}

function idParam<T extends UserId | AppId | BuildId>(req: Request, name: string): T {
  const parsed = parseId<T>(req.params[name]);
  if (!parsed.ok) throw new GatewayError('invalid_field', `${name}: ${parsed.error}`);
  return parsed.value;
}

/** `required`: the route needs a JSON document; otherwise an absent body means `{}`. */
export function parseBody<S extends z.ZodType>(req: Request, schema: S, required: boolean): z.infer<S> {
  if (required && !req.is('application/json')) {
    throw new GatewayError('unsupported_media_type', 'Send a JSON body with "Content-Type: application/json".');
  }
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.body));
  return parsed.data;
}

function toUserView(user: UserRecord): UserView {
  return { id: user.id, email: user.email, name: user.name, hasPassword: user.passwordHash !== null, oidcSubject: user.oidcSubject };
}

function buildRecordFrom(id: BuildId, body: BuildBody, existing: BuildRecord | null, deps: ControlApiDeps): BuildRecord {
  const ended = body.status !== 'running';
  const finishedAt = ended ? (body.finishedAt ? new Date(body.finishedAt) : (existing?.finishedAt ?? deps.now())) : null;
  const { ssh, vnc } = body.remoteAccess;
  // The same secret keeps its stored ciphertext, so only a real rotation reads as a new VM endpoint.
  const seal = (plaintext: string, stored: string | null | undefined, field: VmSecretField): string => keepSealedIfSame(deps.secrets, stored, plaintext, vmSecretContext(id, field));
  return {
    id,
    appId: body.appId as AppId,
    stack: body.stack,
    status: body.status,
    startedAt: new Date(body.startedAt),
    finishedAt,
    triggeredBy: body.triggeredBy ?? null,
    closesAt: finishedAt ? closeTimeAfterFinish(finishedAt, deps.graceMinutes, existing?.extendedMs ?? 0) : null,
    ssh: {
      host: ssh.host,
      port: ssh.port,
      username: ssh.username,
      sealedPassword: ssh.password === undefined ? null : seal(ssh.password, existing?.ssh.sealedPassword, 'ssh.password'),
      sealedPrivateKey: ssh.privateKey === undefined ? null : seal(ssh.privateKey, existing?.ssh.sealedPrivateKey, 'ssh.privateKey'),
      hostKey: ssh.hostKey ?? null,
      pinnedHostKey: null,
    },
    vnc: vnc
      ? { host: vnc.host, port: vnc.port, username: vnc.username ?? null, sealedPassword: seal(vnc.password, existing?.vnc?.sealedPassword, 'vnc.password') }
      : null,
    extensions: body.extensions ?? null,
    // Only extendWindow writes it; upserts leave the stored value alone.
    extendedMs: existing?.extendedMs ?? 0,
  };
}
