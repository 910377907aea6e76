/**
 * What embed pages call (../routes/embed.ts, docs/embedding.md): the one-time launch exchange,
 * then tickets and the window with the credential. Request bodies are the routes' own schemas.
 */
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { embedTicketRequest, exchangeRequest } from '../routes/embed.js';
import { connectionTicketSchema, windowViewSchema } from './common-schemas.js';
import { embedCredentialSchema } from './browser-api-schemas.js';
import { browserOperation, MEMBER_REFUSALS, optionalJsonBody, WRITE_REFUSALS, type Security } from './browser-paths.js';
import { json, refusals } from './responses.js';

const CREDENTIAL_SECURITY: Security = [{ embedCredential: [] }];

export const embedPaths: ZodOpenApiPathsObject = {
  '/api/v1/embed/credentials': {
    post: browserOperation(
      "Exchange the launch token (from the launch URL's fragment) for the page's credential",
      {
        requestBody: { required: true, content: { 'application/json': { schema: exchangeRequest } } },
        responses: { '201': json('The credential, kept in memory only.', embedCredentialSchema), ...refusals(...MEMBER_REFUSALS, ...WRITE_REFUSALS, 'invalid_ticket', 'rate_limited') },
      },
      [],
    ),
  },
  '/api/v1/embed/connections': {
    post: browserOperation(
      "A connection ticket for the embed page's own kind",
      {
        requestBody: optionalJsonBody(embedTicketRequest),
        responses: {
          '201': json('The ticket.', connectionTicketSchema),
          ...refusals(...MEMBER_REFUSALS, ...WRITE_REFUSALS, 'session_not_found', 'session_on_other_node', 'rate_limited', 'too_many_connections'),
        },
      },
      CREDENTIAL_SECURITY,
    ),
  },
  '/api/v1/embed/window': {
    get: browserOperation(
      "The embedded build's access window",
      { responses: { '200': json('The window.', windowViewSchema), ...refusals('unauthenticated', 'not_found') } },
      CREDENTIAL_SECURITY,
    ),
  },
};
