/**
 * The OpenAPI 3.1 document of the control API, the browser API and the webhooks (issue #20,
 * docs/api.md), generated from the zod schemas the routes validate requests with and the response
 * schemas beside them. Built when first asked for (../routes/api-docs.ts): a few hundred
 * milliseconds no gateway start should pay. The integration tests check every response they get
 * against it (test/helpers/openapi-contract.ts, response-recorder.ts).
 */
import { createDocument } from 'zod-openapi';
import { controlPaths } from './control-paths.js';
import { browserPaths } from './browser-paths.js';
import { filesPaths } from './files-paths.js';
import { embedPaths } from './embed-paths.js';
import { servicePaths } from './service-paths.js';
import { webhooks } from './webhooks.js';

export type OpenApiDocument = ReturnType<typeof createDocument>;

export function buildOpenApiDocument(version: string): OpenApiDocument {
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Porthole',
        version,
        description:
          'The control API (for the CI orchestrator, with the control token), the browser API (for the gateway\'s own pages and embed pages) and the webhooks the gateway sends. docs/api.md says what each call is for.',
      },
      tags: [
        { name: 'Control API', description: 'For the CI orchestrator and dashboards\' backends: `Authorization: Bearer <control token>`.' },
        { name: 'Browser API', description: "For the gateway's pages (the sign-in cookie) and embed pages (their credential)." },
        { name: 'Operations', description: 'Probes, metrics and this document.' },
        { name: 'Webhooks', description: 'What the gateway POSTs to PORTHOLE_WEBHOOK_URL.' },
      ],
      components: {
        securitySchemes: {
          controlToken: { type: 'http', scheme: 'bearer', description: 'PORTHOLE_CONTROL_TOKEN.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'PORTHOLE_METRICS_TOKEN (default: the control token).' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'porthole.sid',
            description:
              'The sign-in session (`__Host-porthole.sid` behind https). State-changing calls must also come from the gateway\'s own origin (`Origin`, else `Sec-Fetch-Site: same-origin`): that is the CSRF check; there is no CSRF token.',
          },
          embedCredential: { type: 'http', scheme: 'bearer', description: "An embed page's credential from POST /api/v1/embed/credentials; in memory only, never a cookie or a URL." },
        },
      },
      paths: { ...controlPaths, ...browserPaths, ...filesPaths, ...embedPaths, ...servicePaths },
      webhooks,
    },
  );
}
