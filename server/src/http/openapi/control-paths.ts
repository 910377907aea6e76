/**
 * The control API's paths (../routes/control-api.ts, audit.ts, webhook-deliveries.ts,
 * embed-sessions.ts): request bodies and queries are the routes' own zod schemas.
 */
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import type { ErrorCode } from '../../../../shared/src/errors.js';
import { appBody, buildBody, emptyBody, finishBody, membershipBody, userBody } from '../control-schemas.js';
import { auditQuery } from '../routes/audit.js';
import { deliveriesQuery } from '../routes/webhook-deliveries.js';
import { embedSessionBody } from '../routes/embed-sessions.js';
import { buildIdParams, idSchema } from './common-schemas.js';
import { appViewSchema, auditPageSchema, buildViewSchema, embedSessionViewSchema, liveConnectionsSchema, membershipViewSchema, userViewSchema, webhookDeliveriesSchema } from './control-api-schemas.js';
import { json, noContent, refusals } from './responses.js';

const CONTROL_SECURITY: NonNullable<ZodOpenApiOperationObject['security']> = [{ controlToken: [] }];
const TAGS = ['Control API'];

/** The token, then the body (../routes/control-api.ts checks them in that order). */
const TOKEN_REFUSALS: readonly ErrorCode[] = ['unauthenticated', 'control_api_disabled'];
const BODY_REFUSALS: readonly ErrorCode[] = ['invalid_json', 'invalid_field', 'bad_request', 'payload_too_large', 'unsupported_media_type'];

const userParams = z.object({ userId: idSchema });
const appParams = z.object({ appId: idSchema });
const memberParams = z.object({ appId: idSchema, userId: idSchema });

function operation(summary: string, op: Omit<ZodOpenApiOperationObject, 'summary' | 'tags' | 'security'>): ZodOpenApiOperationObject {
  return { summary, tags: TAGS, security: CONTROL_SECURITY, ...op };
}

function jsonBody(schema: z.ZodType, required = true): NonNullable<ZodOpenApiOperationObject['requestBody']> {
  return { required, content: { 'application/json': { schema } } };
}

function upsert(what: string, schema: z.ZodType): ZodOpenApiOperationObject['responses'] {
  return { '200': json(`${what} updated (or replayed).`, schema), '201': json(`${what} created.`, schema) };
}

/**
 * The launch body's refinements depend on which kinds can be view-only; the document shows its
 * fields, which are the same whatever the deployment.
 */
const embedSessionRequest = embedSessionBody(new Set());

export const controlPaths: ZodOpenApiPathsObject = {
  '/api/v1/users/{userId}': {
    put: operation('Create or update a user', {
      requestParams: { path: userParams },
      requestBody: jsonBody(userBody),
      responses: { ...upsert('The user', userViewSchema), ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS, 'conflict') },
    }),
    delete: operation('Delete a user: their sessions and connections end', {
      requestParams: { path: userParams },
      responses: { '204': noContent('Deleted.'), ...refusals(...TOKEN_REFUSALS, 'invalid_field', 'not_found') },
    }),
  },
  '/api/v1/apps/{appId}': {
    put: operation('Create or update an app', {
      requestParams: { path: appParams },
      requestBody: jsonBody(appBody),
      responses: { ...upsert('The app', appViewSchema), ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS) },
    }),
  },
  '/api/v1/apps/{appId}/members/{userId}': {
    put: operation("Set a user's role on an app", {
      requestParams: { path: memberParams },
      requestBody: jsonBody(membershipBody),
      responses: { ...upsert('The membership', membershipViewSchema), ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS, 'not_found') },
    }),
    delete: operation('Remove a user from an app', {
      requestParams: { path: memberParams },
      responses: { '204': noContent('Removed.'), ...refusals(...TOKEN_REFUSALS, 'invalid_field', 'not_found') },
    }),
  },
  '/api/v1/builds/{buildId}': {
    put: operation('Create or update a build and its VM endpoints', {
      requestParams: { path: buildIdParams },
      requestBody: jsonBody(buildBody),
      responses: { ...upsert('The build', buildViewSchema), ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS, 'not_found', 'conflict') },
    }),
    get: operation('Read a build', {
      requestParams: { path: buildIdParams },
      responses: { '200': json('The build.', buildViewSchema), ...refusals(...TOKEN_REFUSALS, 'invalid_field', 'not_found') },
    }),
  },
  '/api/v1/builds/{buildId}/finish': {
    post: operation('The build ended: the window closes after the grace period', {
      requestParams: { path: buildIdParams },
      requestBody: jsonBody(finishBody, false),
      responses: { '200': json('The build, its window closing.', buildViewSchema), ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS, 'not_found') },
    }),
  },
  '/api/v1/builds/{buildId}/revoke': {
    post: operation("Close the build's window now: live connections end", {
      requestParams: { path: buildIdParams },
      requestBody: jsonBody(emptyBody, false),
      responses: { '200': json('The build, its window closed.', buildViewSchema), ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS, 'not_found') },
    }),
  },
  '/api/v1/builds/{buildId}/sessions': {
    get: operation("The build's live connections, on every node", {
      requestParams: { path: buildIdParams },
      responses: { '200': json('One row per connection.', liveConnectionsSchema), ...refusals(...TOKEN_REFUSALS, 'invalid_field', 'not_found') },
    }),
  },
  '/api/v1/audit': {
    get: operation('The audit trail, newest first', {
      requestParams: { query: auditQuery },
      responses: { '200': json('One page of events.', auditPageSchema), ...refusals(...TOKEN_REFUSALS, 'invalid_field') },
    }),
  },
  '/api/v1/webhook-deliveries': {
    get: operation('Recent webhook delivery attempts, newest first', {
      requestParams: { query: deliveriesQuery },
      responses: { '200': json('The attempts.', webhookDeliveriesSchema), ...refusals(...TOKEN_REFUSALS, 'invalid_field') },
    }),
  },
  '/api/v1/embed-sessions': {
    post: operation('A single-use launch URL for an embedded terminal or screen', {
      requestBody: jsonBody(embedSessionRequest),
      responses: {
        '201': json('The launch URL.', embedSessionViewSchema),
        ...refusals(...TOKEN_REFUSALS, ...BODY_REFUSALS, 'forbidden_origin', 'not_found', 'role_forbidden', 'window_closed', 'rate_limited'),
      },
    }),
  },
};
