/**
 * The OpenAPI contract (issue #20): the served document is valid OpenAPI 3.1 and public, names
 * every JSON route the gateway has (and none it has not), its viewer works under the strict CSP,
 * and the response check the other integration tests run catches what it should.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express } from 'express';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { openApiContract } from '../helpers/openapi-contract.js';
import { packageVersion } from '../../server/src/package-version.js';
import { WEBHOOK_EVENT_TYPES } from '../../server/src/webhooks/events.js';

/** Routes that answer pages or files only, or serve other gateway nodes: not the API. */
const NOT_THE_API = /^\/(?!api\/|healthz$|readyz$|metrics$|auth\/(login|logout)$)/;

interface RouteLayer {
  readonly rawPath?: unknown;
  readonly route?: { readonly path: unknown; readonly methods: Record<string, boolean> };
  readonly handle: { readonly stack?: readonly RouteLayer[] };
}

/** `GET /api/v1/builds/{buildId}` for every route of the app, mounted routers included. */
function expressOperations(app: Express): Set<string> {
  const found = new Set<string>();
  const walk = (stack: readonly RouteLayer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = [layer.route.path].flat() as string[];
        for (const path of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on && method !== '_all') found.add(`${method.toUpperCase()} ${(prefix + path).replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      } else if (layer.handle.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: readonly RouteLayer[] } }).router.stack, '');
  return found;
}

describe('OpenAPI document', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  test('GET /api/v1/openapi.json: public, cacheable JSON, valid OpenAPI 3.1, with the package version and no secret', async () => {
    const res = await request(gw.url).get('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.get('Content-Type') ?? '', /^application\/json/);
    assert.match(res.get('Cache-Control') ?? '', /^public, max-age=\d+$/);
    assert.ok(res.get('ETag'), 'revalidated by ETag');
    const document = res.body as { openapi: string; info: { version: string }; webhooks: Record<string, unknown> };
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.info.version, packageVersion());
    const validator = new Validator();
    const verdict = await validator.validate(document);
    assert.deepEqual(verdict, { valid: true });
    assert.equal(validator.version, '3.1');
    assert.deepEqual(Object.keys(document.webhooks).sort(), [...WEBHOOK_EVENT_TYPES].sort());
    assert.ok(!res.text.includes(gw.controlToken), 'the control token is nowhere in it');
  });

  test('every JSON route the app has is in the document, and every documented operation is a route', () => {
    const routes = [...expressOperations(gw.app.app)].filter((op) => !NOT_THE_API.test(op.split(' ')[1] ?? ''));
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(openApiContract().document.paths ?? {})) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch']) if (method in item) documented.add(`${method.toUpperCase()} ${path}`);
    }
    assert.ok(routes.length > 20, `the router stack was read (${routes.length} routes)`);
    assert.deepEqual(routes.filter((op) => !documented.has(op)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((op) => !routes.includes(op)), [], 'documented operations the app does not have');
  });

  test('/docs/api: the viewer from swagger-ui-dist and our own init script, under the same strict CSP', async () => {
    const page = await request(gw.url).get('/docs/api');
    assert.equal(page.status, 200);
    assert.match(page.get('Content-Type') ?? '', /^text\/html/);
    const csp = page.get('Content-Security-Policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline or remote script');
    assert.doesNotMatch(page.text, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(page.text, /https?:\/\//, 'nothing from elsewhere');
    for (const [path, type] of [
      ['/docs/api/swagger-ui.css', /^text\/css/],
      ['/docs/api/swagger-ui-bundle.js', /^(text|application)\/javascript/],
      ['/docs/api/init.js', /^text\/javascript/],
    ] as const) {
      const asset = await request(gw.url).get(path);
      assert.equal(asset.status, 200, path);
      assert.match(asset.get('Content-Type') ?? '', type, path);
      assert.match(page.text, new RegExp(`"${path}"`), `the page loads ${path}`);
    }
    const init = await request(gw.url).get('/docs/api/init.js');
    assert.match(init.text, /"\/api\/v1\/openapi\.json"/);
    assert.match(init.text, /validatorUrl: null/, 'the document is never sent to an online validator');
    // swagger-ui-dist's own page (inline script) and petstore initializer are not served.
    assert.equal((await request(gw.url).get('/docs/api/index.html')).status, 404);
    assert.equal((await request(gw.url).get('/docs/api/swagger-initializer.js')).status, 404);
  });

  test('the response check names an undocumented status, a body that breaks its schema and an unknown route', () => {
    const contract = openApiContract();
    const json = 'application/json; charset=utf-8';
    const window = { closesAt: null, remainingMs: null, open: true, extendStepMinutes: null, canExtend: false };
    const ok = { method: 'GET', url: '/api/v1/builds/b1/window', status: 200, contentType: json, body: JSON.stringify(window) };
    assert.deepEqual(contract.violations(ok), []);
    assert.match(contract.violations({ ...ok, status: 418 }).join('\n'), /documents 200, .*not 418/);
    const broken = contract.violations({ ...ok, body: JSON.stringify({ ...window, open: 'yes', secret: 1 }) }).join('\n');
    assert.match(broken, /\/open must be boolean \(got "yes"\)/);
    assert.match(broken, /must NOT have additional properties "secret"/);
    assert.match(contract.violations({ ...ok, contentType: 'text/html' }).join('\n'), /documents application\/json/);
    assert.match(contract.violations({ ...ok, method: 'PATCH' }).join('\n'), /has no PATCH/);
    assert.match(contract.violations({ ...ok, url: '/api/v1/nope', status: 200 }).join('\n'), /no path of the OpenAPI document matches/);
    const notFound = { ...ok, url: '/api/v1/nope', status: 404, body: JSON.stringify({ error: { code: 'not_found', message: 'Nothing here.' } }) };
    assert.deepEqual(contract.violations(notFound), [], 'unknown API paths answer 404 not_found');
    const refused = { ...ok, status: 404, body: JSON.stringify({ error: { code: 'no_such_code', message: 'x' } }) };
    assert.match(contract.violations(refused).join('\n'), /\/error\/code must be equal to one of the allowed values/);
  });
});
