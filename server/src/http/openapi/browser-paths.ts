/**
 * The browser API's paths: what the gateway's pages call with the sign-in cookie (state changes
 * also need the gateway's own `Origin`, the CSRF check of ../middleware/origin-guard.ts), and what
 * embed pages call with their credential. Request bodies are the routes' own zod schemas.
 */
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import type { ErrorCode } from '../../../../shared/src/errors.js';
import { emptyBody } from '../control-schemas.js';
import { ticketRequest } from '../routes/connections.js';
import { watcherModeBody } from '../routes/live-sessions.js';
import { buildIdParams, connectionTicketSchema, idSchema, windowViewSchema } from './common-schemas.js';
import { memberSessionsSchema, nativeCredentialsSchema, recordingsSchema } from './browser-api-schemas.js';
import { json, noContent, refusals } from './responses.js';

export type Security = NonNullable<ZodOpenApiOperationObject['security']>;

export const SESSION_SECURITY: Security = [{ sessionCookie: [] }];
const TAGS = ['Browser API'];

/** The remote-access policy's answers (../../access/remote-access.ts), as a connection ticket gives them. */
export const MEMBER_REFUSALS: readonly ErrorCode[] = ['unauthenticated', 'not_found', 'role_forbidden', 'window_closed'];
/** A same-origin JSON POST, PUT or DELETE. */
export const WRITE_REFUSALS: readonly ErrorCode[] = ['forbidden_origin', 'invalid_json', 'invalid_field', 'bad_request', 'payload_too_large', 'unsupported_media_type'];

export function browserOperation(summary: string, op: Omit<ZodOpenApiOperationObject, 'summary' | 'tags' | 'security'>, security: Security = SESSION_SECURITY): ZodOpenApiOperationObject {
  return { summary, tags: TAGS, security, ...op };
}

export function optionalJsonBody(schema: z.ZodType): NonNullable<ZodOpenApiOperationObject['requestBody']> {
  return { required: false, content: { 'application/json': { schema } } };
}

const watcherParams = z.object({
  buildId: idSchema,
  sessionId: z.string().meta({ description: 'The live session (16 hex digits).' }),
  userId: idSchema.meta({ description: 'The watcher.' }),
});

const recordingParams = z.object({ buildId: idSchema, recordingId: z.string() });

/** What extending refuses beyond any member's write (../../access/extension.ts, ../routes/window.ts); releasing refuses nothing more. */
const EXTEND_REFUSALS: readonly ErrorCode[] = ['conflict', 'extension_not_available', 'extension_too_early', 'extension_limit_reached'];

const windowResponses = (summary: string, extra: readonly ErrorCode[] = []): ZodOpenApiResponsesObject => ({
  '200': json(summary, windowViewSchema),
  ...refusals(...MEMBER_REFUSALS, ...WRITE_REFUSALS, ...extra),
});

export const browserPaths: ZodOpenApiPathsObject = {
  '/api/v1/builds/{buildId}/window': {
    get: browserOperation("The build's access window, for the page's countdown", {
      requestParams: { path: buildIdParams },
      responses: { '200': json('The window.', windowViewSchema), ...refusals('unauthenticated', 'not_found') },
    }),
  },
  '/api/v1/builds/{buildId}/window/events': {
    get: browserOperation("The build's access window as Server-Sent Events: now, then on every change", {
      description:
        'A `text/event-stream` (../routes/window-events.ts): `event: window` with the window as `data` first and after each change on any node; ' +
        '`event: end` with `{"reason"}` before the gateway closes it (signed out, removed from the app, drain); a comment line every 25 s.',
      requestParams: { path: buildIdParams },
      responses: {
        '200': { description: 'The stream.', content: { 'text/event-stream': { schema: z.string() } } },
        ...refusals('unauthenticated', 'not_found', 'too_many_window_streams', 'draining'),
      },
    }),
  },
  '/api/v1/builds/{buildId}/extend': {
    post: browserOperation('Extend the window by one step', {
      requestParams: { path: buildIdParams },
      requestBody: optionalJsonBody(emptyBody),
      responses: windowResponses('The window, extended.', EXTEND_REFUSALS),
    }),
  },
  '/api/v1/builds/{buildId}/release': {
    post: browserOperation('Close the window now: the VM may be torn down', {
      requestParams: { path: buildIdParams },
      requestBody: optionalJsonBody(emptyBody),
      responses: windowResponses('The window, closed.'),
    }),
  },
  '/api/v1/builds/{buildId}/connections': {
    post: browserOperation('A connection ticket for the terminal or the screen', {
      requestParams: { path: buildIdParams },
      requestBody: { required: true, content: { 'application/json': { schema: ticketRequest } } },
      responses: {
        '201': json('The ticket; offer it in Sec-WebSocket-Protocol.', connectionTicketSchema),
        ...refusals(...MEMBER_REFUSALS, ...WRITE_REFUSALS, 'session_not_found', 'session_on_other_node', 'rate_limited', 'too_many_connections'),
      },
    }),
  },
  '/api/v1/builds/{buildId}/remote-access': {
    get: browserOperation("Reveal the VM's credentials for native clients (audited)", {
      requestParams: { path: buildIdParams },
      responses: { '200': json('The credentials; never cached.', nativeCredentialsSchema), ...refusals(...MEMBER_REFUSALS, 'forbidden_origin', 'credentials_hidden') },
    }),
  },
  '/api/v1/builds/{buildId}/live-sessions': {
    get: browserOperation("The build's live sessions, their owners and watchers", {
      requestParams: { path: buildIdParams },
      responses: { '200': json('The sessions, oldest first.', memberSessionsSchema), ...refusals(...MEMBER_REFUSALS) },
    }),
  },
  '/api/v1/builds/{buildId}/live-sessions/{sessionId}/watchers/{userId}': {
    put: browserOperation("The owner lets a watcher type, or takes the keyboard back", {
      requestParams: { path: watcherParams },
      requestBody: { required: true, content: { 'application/json': { schema: watcherModeBody } } },
      responses: { '204': noContent('Done.'), ...refusals(...MEMBER_REFUSALS, ...WRITE_REFUSALS, 'session_not_found', 'not_session_owner', 'session_on_other_node') },
    }),
    delete: browserOperation('The owner sends a watcher away', {
      requestParams: { path: watcherParams },
      responses: { '204': noContent('Done.'), ...refusals(...MEMBER_REFUSALS, 'forbidden_origin', 'session_not_found', 'not_session_owner', 'session_on_other_node') },
    }),
  },
  '/api/v1/builds/{buildId}/recordings': {
    get: browserOperation("The build's session recordings", {
      requestParams: { path: buildIdParams },
      responses: { '200': json('The recordings.', recordingsSchema), ...refusals('unauthenticated', 'not_found', 'role_forbidden') },
    }),
  },
  '/api/v1/builds/{buildId}/recordings/{recordingId}': {
    get: browserOperation('Download a recording (asciicast v2)', {
      requestParams: { path: recordingParams },
      responses: {
        '200': { description: 'The asciicast file.', content: { 'application/x-asciicast': { schema: z.string() } } },
        ...refusals('unauthenticated', 'not_found', 'role_forbidden'),
      },
    }),
  },
};
