/**
 * The API reference page (/docs/api): Swagger UI from swagger-ui-dist, started by a script file of
 * our own, since the CSP allows no inline script. It reads the gateway's own document and nothing
 * from elsewhere: no CDN, no online validator.
 */
import { html, type Html } from './html.js';

export const API_DOCS_PATH = '/docs/api';
export const OPENAPI_JSON_PATH = '/api/v1/openapi.json';

export function apiDocsPage(): Html {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Porthole API</title>
    <link rel="stylesheet" href="${API_DOCS_PATH}/swagger-ui.css">
    <script src="${API_DOCS_PATH}/swagger-ui-bundle.js" defer></script>
    <script src="${API_DOCS_PATH}/init.js" defer></script>
  </head>
  <body>
    <div id="swagger-ui"><noscript>The API reference needs JavaScript; the document itself is at <a href="${OPENAPI_JSON_PATH}">${OPENAPI_JSON_PATH}</a>.</noscript></div>
  </body>
</html>
`;
}

/** Served as /docs/api/init.js. `validatorUrl: null`: Swagger UI would otherwise send the document to swagger.io. */
export const API_DOCS_INIT_SCRIPT = `'use strict';
window.ui = window.SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_JSON_PATH)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;
