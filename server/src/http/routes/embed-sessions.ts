/**
 * The launch API (docs/api.md, docs/embedding.md): a dashboard's backend, holding the control
 * token, asks for a launch URL for one of its users. The access policy is checked here and again
 * when the embed page exchanges the launch, and on every connection ticket after that.
 */
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { CONTROL_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import { ID_PATTERN, ID_RULE, type BuildId, type UserId } from '../../../../shared/src/ids.js';
import { EMBED_LAUNCH_FRAGMENT_KEY, EMBED_PAGE_PATHS, EMBED_PARENT_QUERY_KEY, type EmbedSessionView } from '../../../../shared/src/embed.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../../log.js';
import type { EmbedLaunchBook } from '../../connections/embed-launches.js';
import type { ConnectionEndpoints } from '../../connections/endpoints.js';
import { CONNECTION_KINDS, type ConnectionKind } from '../../../../shared/src/protocol/kinds.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';
import { loadBuildStanding } from '../../access/build-access.js';
import { parseBody, requireControlToken } from './control-api.js';
import { sessionIdField } from '../control-schemas.js';

/** Origins are short; anything longer is not one. */
const MAX_ORIGIN_CHARS = 2048;

export function embedSessionBody(viewOnlyKinds: ReadonlySet<ConnectionKind>) {
  return z
    .strictObject({
      userId: z.string().regex(ID_PATTERN, ID_RULE),
      buildId: z.string().regex(ID_PATTERN, ID_RULE),
      kind: z.enum(CONNECTION_KINDS),
      parentOrigin: z.string().min(1).max(MAX_ORIGIN_CHARS),
      viewOnly: z.boolean().optional(),
      /** With mode "watch": the live session the view watches (issue #16). */
      sessionId: sessionIdField.optional(),
      mode: z.enum(['drive', 'watch']).optional(),
    })
    .superRefine((body, ctx) => {
      if (body.viewOnly === true && !viewOnlyKinds.has(body.kind)) ctx.addIssue({ code: 'custom', path: ['viewOnly'], message: 'only screens can be view-only' });
      if (body.mode === 'watch' && body.sessionId === undefined) ctx.addIssue({ code: 'custom', path: ['sessionId'], message: 'a watch view names the session to watch' });
      if (body.mode !== 'watch' && body.sessionId !== undefined) ctx.addIssue({ code: 'custom', path: ['mode'], message: 'a sessionId launches a watch view: mode must be "watch"' });
    });
}

export interface EmbedSessionDeps {
  readonly store: Store;
  readonly launches: EmbedLaunchBook;
  readonly endpoints: ConnectionEndpoints;
  readonly controlToken: string | null;
  /** PORTHOLE_EMBED_ORIGINS, exact strings. */
  readonly embedOrigins: ReadonlySet<string>;
  readonly publicUrl: URL;
  readonly logger: Logger;
  readonly now: () => Date;
}

export function embedSessionsRouter(deps: EmbedSessionDeps): Router {
  const router = Router();
  const bodySchema = embedSessionBody(deps.endpoints.viewOnlyKinds);
  const checkToken = requireControlToken(deps.controlToken);
  const parseJson = express.json({ limit: CONTROL_BODY_LIMIT_BYTES, strict: true });
  // The token is checked before the body is read: strangers learn nothing from parse errors.
  const auth: RequestHandler = (req, res, next) => {
    checkToken(req, res, (error?: unknown) => (error ? next(error) : parseJson(req, res, next)));
  };

  router.post('/embed-sessions', auth, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const body = parseBody(req, bodySchema, true);
    const userId = body.userId as UserId;
    const buildId = body.buildId as BuildId;
    if (!deps.embedOrigins.has(body.parentOrigin)) {
      throw new GatewayError(
        'forbidden_origin',
        deps.embedOrigins.size === 0
          ? 'parentOrigin: embedding is disabled on this gateway (PORTHOLE_EMBED_ORIGINS is empty)'
          : `parentOrigin: ${body.parentOrigin} is not in PORTHOLE_EMBED_ORIGINS (origins match exactly, e.g. https://ci.example.com)`,
      );
    }
    const user = await deps.store.getUser(userId);
    if (!user) throw new GatewayError('not_found', `user ${userId} not found`);
    const standing = await loadBuildStanding(deps.store, buildId, userId, deps.now());
    if (!standing) {
      const build = await deps.store.getBuild(buildId);
      throw new GatewayError('not_found', build ? `user ${userId} is not a member of app ${build.appId}` : `build ${buildId} not found`);
    }
    const refuse = (reason: string): void => {
      deps.logger.info({ event: 'embed_launch_refused', userId, buildId, kind: body.kind, parentOrigin: body.parentOrigin, reason }, 'embed launch refused');
    };
    if (!standing.decision.ok) {
      refuse(standing.decision.error);
      throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
    }
    const availability = deps.endpoints.availability(standing.build, body.kind);
    if (!availability.ok) throw new GatewayError('invalid_field', `kind: ${availability.error}`);
    const minted = await deps.launches.mint({ userId, buildId, kind: body.kind, parentOrigin: body.parentOrigin, viewOnly: body.viewOnly ?? false,
      watchSessionId: body.mode === 'watch' ? (body.sessionId ?? null) : null,
      sessionEpoch: user.sessionEpoch,
    });
    if (!minted.ok && minted.error === 'owner_full') {
      refuse('too_many_user_launches');
      throw new GatewayError('rate_limited', `User ${userId} has too many embed sessions waiting to be opened. Try again in a minute.`);
    }
    if (!minted.ok) {
      refuse('too_many_launches');
      throw new GatewayError('rate_limited', 'Too many embed sessions are waiting to be opened. Try again in a minute.');
    }
    deps.logger.info({ event: 'embed_launch_minted', userId, buildId, kind: body.kind, parentOrigin: body.parentOrigin }, 'embed launch minted');
    const url = new URL(EMBED_PAGE_PATHS[body.kind], deps.publicUrl);
    url.searchParams.set(EMBED_PARENT_QUERY_KEY, body.parentOrigin);
    // In the fragment: browsers never send it to a server, a proxy's log or a Referer.
    url.hash = new URLSearchParams({ [EMBED_LAUNCH_FRAGMENT_KEY]: minted.value.token }).toString();
    const view: EmbedSessionView = { url: url.href, expiresAt: minted.value.expiresAt.toISOString() };
    res.status(201).json(view);
  });

  return router;
}
