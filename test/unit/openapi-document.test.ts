/**
 * The OpenAPI document (server/src/http/openapi/, issue #20): valid OpenAPI 3.1, built from the
 * routes' own request schemas, each refusal under the status its code has, one error schema with
 * every code, and the webhook payloads as `webhooks`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../server/src/http/openapi/document.js';
import { refusals } from '../../server/src/http/openapi/responses.js';
import { HTTP_STATUS_BY_CODE } from '../../server/src/errors.js';
import { ERROR_CODES, type ErrorCode } from '../../shared/src/errors.js';
import { buildBody, userBody } from '../../server/src/http/control-schemas.js';
import { newEventId, webhookEventSchema, WEBHOOK_EVENT_TYPES } from '../../server/src/webhooks/events.js';

const document = buildOpenApiDocument('9.8.7');
const plain = JSON.parse(JSON.stringify(document)) as Record<string, unknown>;

type Schema = { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: unknown; enum?: unknown[]; $ref?: string };

function at(path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], plain);
}

test('openapi document: valid OpenAPI 3.1, with the version it was given', async () => {
  const validator = new Validator();
  assert.deepEqual(await validator.validate(plain), { valid: true });
  assert.equal(validator.version, '3.1');
  assert.equal(document.info.version, '9.8.7');
});

test('openapi document: request bodies are the routes own zod schemas, strict objects included', () => {
  const build = at(['paths', '/api/v1/builds/{buildId}', 'put', 'requestBody', 'content', 'application/json', 'schema']) as Schema;
  assert.deepEqual(Object.keys(build.properties ?? {}).sort(), Object.keys(buildBody.shape).sort());
  assert.equal(build.additionalProperties, false, 'a typo is a 400, and the document says so');
  const user = at(['paths', '/api/v1/users/{userId}', 'put', 'requestBody', 'content', 'application/json', 'schema']) as Schema;
  assert.deepEqual(user.required, ['email']);
  assert.deepEqual(Object.keys(user.properties ?? {}).sort(), Object.keys(userBody.shape).sort());
  const audit = at(['paths', '/api/v1/audit', 'get', 'parameters']) as { name: string; in: string }[];
  assert.deepEqual(audit.map((p) => `${p.in}:${p.name}`), ['query:buildId', 'query:userId', 'query:since', 'query:before', 'query:limit']);
});

test('openapi document: one error schema with every code; each refusal under the status its code has', () => {
  const error = at(['components', 'schemas', 'Error']) as { properties: { error: { properties: { code: Schema } } } };
  assert.deepEqual(error.properties.error.properties.code.enum, [...ERROR_CODES]);
  let refusalsSeen = 0;
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item as Record<string, { responses?: Record<string, { description: string }> }>)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const codes = [...response.description.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as ErrorCode);
        if (!response.description.startsWith('Refused:')) continue;
        refusalsSeen += 1;
        for (const code of codes) assert.equal(String(HTTP_STATUS_BY_CODE[code]), status, `${method} ${path}: ${code}`);
      }
    }
  }
  assert.ok(refusalsSeen > 50);
});

test('openapi refusals: grouped by status, the database and internal faults always among them', () => {
  const responses = refusals('not_found', 'session_not_found', 'window_closed');
  assert.deepEqual(Object.keys(responses), ['404', '410', '500', '503']);
  assert.equal(responses['404']?.description, 'Refused: `not_found`, `session_not_found`.');
  assert.equal(responses['503']?.description, 'Refused: `store_unavailable`.');
});

test('openapi document: every webhook event type, its body the schema events are built with', () => {
  assert.deepEqual(Object.keys(document.webhooks ?? {}).sort(), [...WEBHOOK_EVENT_TYPES].sort());
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);
  ajv.addSchema(plain, 'doc');
  const event = webhookEventSchema.parse({
    id: newEventId(),
    type: 'build.extended',
    timestamp: '2026-12-03T10:00:00.000Z',
    build: { id: 'build-1' },
    app: { id: 'app-1' },
    user: { id: 'user-1' },
    data: { closesAt: '2026-12-03T10:30:00.000Z', by: { id: 'user-1' } },
  });
  const validate = ajv.compile({ $ref: 'doc#/webhooks/build.extended/post/requestBody/content/application~1json/schema' });
  assert.ok(validate(event), JSON.stringify(validate.errors));
  assert.ok(!validate({ ...event, type: 'build.released' }), 'each event type has its own body');
  assert.ok(!validate({ ...event, data: { by: { id: 'user-1' } } }), 'closesAt is required');
});
