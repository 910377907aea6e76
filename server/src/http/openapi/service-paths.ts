/**
 * Everything else a client or an operator calls: the probes, metrics, JSON sign-in and sign-out,
 * and this document itself.
 */
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { loginBody, probeSchema } from './browser-api-schemas.js';
import { json, noContent, pageOrJsonRefusals } from './responses.js';

const signInBody = {
  required: true,
  content: { 'application/json': { schema: loginBody }, 'application/x-www-form-urlencoded': { schema: loginBody.extend({ next: z.string().optional() }) } },
};

export const servicePaths: ZodOpenApiPathsObject = {
  '/healthz': {
    get: { summary: 'Liveness: the process serves HTTP', tags: ['Operations'], security: [], responses: { '200': json('Alive.', probeSchema) } },
  },
  '/readyz': {
    get: {
      summary: 'Readiness: the store answers and the gateway is not draining',
      tags: ['Operations'],
      security: [],
      responses: { '200': json('Send it traffic.', probeSchema), '503': json('Draining, or the store is unreachable.', probeSchema) },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics',
      tags: ['Operations'],
      security: [{ metricsToken: [] }],
      responses: {
        '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: z.string() } } },
        ...pageOrJsonRefusals('unauthenticated', 'metrics_disabled'),
      },
    },
  },
  '/auth/login': {
    post: {
      summary: 'Sign in with email and password',
      tags: ['Browser API'],
      security: [],
      requestBody: signInBody,
      responses: {
        '204': noContent('Signed in (JSON): the response sets the session cookie.'),
        '303': noContent('Signed in (form): to the `next` page.'),
        ...pageOrJsonRefusals('forbidden_origin', 'invalid_field', 'invalid_credentials', 'rate_limited', 'not_found', 'invalid_json', 'payload_too_large'),
      },
    },
  },
  '/auth/logout': {
    post: {
      summary: 'Sign out: this browser session ends, with its connections',
      tags: ['Browser API'],
      security: [],
      responses: { '204': noContent('Signed out (JSON).'), '303': noContent('Signed out (form): to the login page.'), ...pageOrJsonRefusals('forbidden_origin') },
    },
  },
  '/api/v1/openapi.json': {
    get: {
      summary: 'This document',
      tags: ['Operations'],
      security: [],
      responses: { '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } } } },
    },
  },
};
