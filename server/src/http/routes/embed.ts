/**
 * What embed pages call instead of the cookie-authenticated routes (docs/embedding.md): the
 * one-time exchange of a launch token for an in-memory credential, and with that credential,
 * connection tickets and the access window. Mounted before the session middleware: nothing here
 * reads or sets a cookie.
 */
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { BROWSER_BODY_LIMIT_BYTES } from '../../../../shared/src/limits.js';
import type { EmbedCredentialView } from '../../../../shared/src/embed.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EmbedLaunchBook } from '../../connections/embed-launches.js';
import type { EmbedCredentialBook, EmbedCredentialClaims } from '../../connections/embed-credentials.js';
import { holdsCurrentEpoch } from '../../store/session-epoch.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';
import { loadBuildStanding, toWindowView } from '../../access/build-access.js';
import { requireSameOrigin } from '../middleware/origin-guard.js';
import { describeIssue, sessionIdField } from '../control-schemas.js';
import type { Store } from '../../store/store.js';
import type { Admission } from '../../sessions/admission.js';
import { CONNECTION_KINDS } from '../../../../shared/src/protocol/kinds.js';

/** Launch tokens are 43 characters; the cap only keeps junk out of the hash. */
const MAX_LAUNCH_CHARS = 256;
const MAX_ORIGIN_CHARS = 2048;

export const exchangeRequest = z.object({
  launch: z.string().min(1).max(MAX_LAUNCH_CHARS),
  kind: z.enum(CONNECTION_KINDS),
  parentOrigin: z.string().min(1).max(MAX_ORIGIN_CHARS),
});

/** The kind and view-only flag come from the credential; a page may only ask to resume a session. */
export const embedTicketRequest = z.object({ sessionId: sessionIdField.optional() });

const LAUNCH_REFUSED = 'This embedded session was already opened or its link has expired. Open it again from your dashboard.';
const CREDENTIAL_REFUSED = 'This embedded session has ended. Open it again from your dashboard.';

export interface EmbedRouteDeps {
  readonly store: Store;
  readonly now: () => Date;
  /** Mints connection tickets under the one admission policy. */
  readonly admission: Pick<Admission, 'mint'>;
  readonly logger: Logger;
  readonly launches: EmbedLaunchBook;
  readonly credentials: EmbedCredentialBook;
  readonly publicOrigin: string;
}

export function embedRouter(deps: EmbedRouteDeps): Router {
  const router = Router();
  const sameOrigin = requireSameOrigin(deps.publicOrigin);

  router.post('/embed/credentials', sameOrigin, express.json({ limit: BROWSER_BODY_LIMIT_BYTES }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const parsed = exchangeRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.body));
    const { launch, kind, parentOrigin } = parsed.data;
    const redeemed = await deps.launches.redeem(launch);
    if (!redeemed.ok) {
      deps.logger.info({ event: 'embed_launch_refused', reason: redeemed.reason }, 'embed launch refused');
      throw new GatewayError('invalid_ticket', LAUNCH_REFUSED);
    }
    const claims = redeemed.claims;
    const log = { userId: claims.userId, buildId: claims.buildId, kind: claims.kind, parentOrigin: claims.parentOrigin };
    // Deleted, or signed out everywhere (password change) since the launch: the launch went with them.
    if (!holdsCurrentEpoch(await deps.store.getUser(claims.userId), claims.sessionEpoch)) {
      deps.logger.info({ event: 'embed_launch_refused', ...log, reason: 'signed_out' }, 'embed launch refused');
      throw new GatewayError('invalid_ticket', LAUNCH_REFUSED);
    }
    // The page was served framed by `parentOrigin`; it must be the launch's.
    if (claims.parentOrigin !== parentOrigin || claims.kind !== kind) {
      deps.logger.warn({ event: 'embed_launch_refused', ...log, reason: 'wrong_page', pageParentOrigin: parentOrigin, pageKind: kind }, 'embed launch refused');
      throw new GatewayError('forbidden_origin', 'This embedded session was launched for another page.');
    }
    const now = deps.now();
    const standing = await loadBuildStanding(deps.store, claims.buildId, claims.userId, now);
    if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
    if (!standing.decision.ok) {
      deps.logger.info({ event: 'embed_launch_refused', ...log, reason: standing.decision.error }, 'embed launch refused');
      throw new GatewayError(standing.decision.error, REFUSAL_MESSAGES[standing.decision.error]);
    }
    const { userId, buildId, viewOnly, watchSessionId, sessionEpoch } = claims;
    const issued = await deps.credentials.mint({ userId, buildId, kind, parentOrigin, viewOnly, watchSessionId, sessionEpoch }, standing.build.closesAt);
    if (!issued.ok) throw new GatewayError('rate_limited', 'Too many embedded sessions are open on this gateway. Try again later.');
    deps.logger.info({ event: 'embed_launched', ...log }, 'embed launched');
    const body: EmbedCredentialView = {
      credential: issued.value.token,
      expiresAt: issued.value.expiresAt.toISOString(),
      buildId,
      kind,
      parentOrigin,
      viewOnly,
      watchSessionId,
      // Embedded pages have no Extend: their credential is the parent's, not a signed-in user's click.
      window: toWindowView(standing.build, now, 0, false),
    };
    res.status(201).json(body);
  });

  router.post('/embed/connections', sameOrigin, express.json({ limit: BROWSER_BODY_LIMIT_BYTES }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const claims = await credentialOf(req, deps);
    const parsed = embedTicketRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw new GatewayError('invalid_field', describeIssue(parsed.error, req.body));
    const watching = claims.watchSessionId;
    // A watch view's credential watches its one session: the page cannot turn it to another.
    if (watching !== null && parsed.data.sessionId !== undefined && parsed.data.sessionId !== watching) {
      throw new GatewayError('invalid_field', 'sessionId: this embedded view watches another session');
    }
    const body = await deps.admission.mint({
      userId: claims.userId,
      buildId: claims.buildId,
      kind: claims.kind,
      viewOnly: claims.viewOnly,
      origin: deps.publicOrigin,
      sessionEpoch: claims.sessionEpoch,
      signInId: null,
      sessionId: watching ?? parsed.data.sessionId ?? null,
      watch: watching !== null,
    });
    res.status(201).json(body);
  });

  router.get('/embed/window', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const claims = await credentialOf(req, deps);
    const now = deps.now();
    const standing = await loadBuildStanding(deps.store, claims.buildId, claims.userId, now);
    if (!standing) throw new GatewayError('not_found', REFUSAL_MESSAGES.not_found);
    res.json(toWindowView(standing.build, now, 0, false));
  });

  return router;
}

/**
 * The embed credential from `Authorization: Bearer`; never a cookie, never a URL. Like a sign-in
 * session, it speaks for its user only while their session epoch is the one it was issued under.
 */
export async function credentialOf(req: Request, deps: Pick<EmbedRouteDeps, 'credentials' | 'store'>): Promise<EmbedCredentialClaims> {
  const match = /^Bearer (\S+)$/i.exec(req.get('authorization') ?? '');
  if (!match?.[1]) throw new GatewayError('unauthenticated', 'An embed credential is required ("Authorization: Bearer <credential>").');
  return redeemCredential(match[1], deps);
}

/** An embed credential however it came (a header, or the body of the embedded terminal's download form). */
export async function redeemCredential(credential: string, deps: Pick<EmbedRouteDeps, 'credentials' | 'store'>): Promise<EmbedCredentialClaims> {
  const checked = await deps.credentials.redeem(credential);
  if (!checked.ok) throw new GatewayError('unauthenticated', CREDENTIAL_REFUSED);
  if (!holdsCurrentEpoch(await deps.store.getUser(checked.claims.userId), checked.claims.sessionEpoch)) throw new GatewayError('unauthenticated', CREDENTIAL_REFUSED);
  return checked.claims;
}
