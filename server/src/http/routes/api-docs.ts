/**
 * The OpenAPI document (`GET /api/v1/openapi.json`) and its viewer (`/docs/api`, docs/api.md):
 * public, since the document holds no secret, only what the API accepts and answers. The document
 * is built and serialised once, on the first request for it.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Router } from 'express';
import type { OpenApiDocument } from '../openapi/document.js';
import { API_DOCS_INIT_SCRIPT, API_DOCS_PATH, apiDocsPage, OPENAPI_JSON_PATH } from '../views/api-docs-page.js';

/** The document and the page change only with a new version: an hour, then revalidated by ETag. */
const DOCS_MAX_AGE_SECONDS = 60 * 60;
/** swagger-ui-dist's files are not content-hashed: a day, revalidated after. */
const VIEWER_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** The only files of swagger-ui-dist the page loads; its index.html and petstore initializer stay unserved. */
const VIEWER_FILES: readonly string[] = ['swagger-ui.css', 'swagger-ui-bundle.js'];

export interface ApiDocsDeps {
  /** Builds the document; called once, when it is first asked for. */
  readonly document: () => OpenApiDocument;
  /** Where swagger-ui-dist is installed (swaggerUiDir()). */
  readonly viewerDir: string;
}

export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function apiDocsRouter(deps: ApiDocsDeps): Router {
  const router = Router();
  let json: string | undefined;
  const page = apiDocsPage().value;
  const cacheable = `public, max-age=${DOCS_MAX_AGE_SECONDS}`;

  router.get(OPENAPI_JSON_PATH, (_req, res) => {
    json ??= JSON.stringify(deps.document());
    res.type('application/json').set('Cache-Control', cacheable).send(json);
  });
  router.get(API_DOCS_PATH, (_req, res) => {
    res.type('html').set('Cache-Control', cacheable).send(page);
  });
  router.get(`${API_DOCS_PATH}/init.js`, (_req, res) => {
    res.type('text/javascript').set('Cache-Control', cacheable).send(API_DOCS_INIT_SCRIPT);
  });
  for (const file of VIEWER_FILES) {
    router.get(`${API_DOCS_PATH}/${file}`, (_req, res, next) => {
      res.sendFile(file, { root: deps.viewerDir, maxAge: VIEWER_MAX_AGE_MS }, (error) => error && next(error));
    });
  }
  return router;
}
