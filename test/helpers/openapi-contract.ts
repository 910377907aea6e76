/**
 * The gateway's OpenAPI document as a test oracle (issue #20): a recorded response is checked
 * against the operation its method and path name, its status, its media type and, for JSON, its
 * body (ajv, JSON Schema 2020-12, the dialect of OpenAPI 3.1). The document is built and each
 * schema compiled once per test process.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument, type OpenApiDocument } from '../../server/src/http/openapi/document.js';
import { packageVersion } from '../../server/src/package-version.js';

/** What a response recorder saw (./response-recorder.ts). */
export interface RecordedResponse {
  readonly method: string;
  /** The request's path and query as the client sent them. */
  readonly url: string;
  readonly status: number;
  /** The Content-Type header, parameters included; null when none was sent. */
  readonly contentType: string | null;
  /** The body, when it is JSON (else null); `undefined` when it was too large to keep. */
  readonly body: string | null | undefined;
}

const DOCUMENT_ID = 'https://porthole.invalid/openapi.json';
/** Bodies are quoted in failures this far: enough to see the field, not a listing of a folder. */
const BODY_EXCERPT_CHARS = 600;

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };

export interface OpenApiContract {
  readonly document: OpenApiDocument;
  /** The document path template a request path falls under, or null when it names no documented path. */
  templateOf(path: string): string | null;
  /** Why this response breaks the contract; empty when it keeps it. */
  violations(response: RecordedResponse): string[];
}

let shared: OpenApiContract | null = null;

export function openApiContract(): OpenApiContract {
  shared ??= createContract(buildOpenApiDocument(packageVersion()));
  return shared;
}

function createContract(document: OpenApiDocument): OpenApiContract {
  // Not strict: OpenAPI adds keywords (`example`) beside JSON Schema's.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);
  ajv.addSchema(JSON.parse(JSON.stringify(document)) as object, DOCUMENT_ID);
  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string): ValidateFunction => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };

  const paths = document.paths ?? {};
  // Literal paths before templated ones, then fewer parameters first: `/embed/window` is not a build.
  const templates = Object.keys(paths)
    .map((template) => ({ template, pattern: templatePattern(template), parameters: (template.match(/\{/g) ?? []).length }))
    .sort((a, b) => a.parameters - b.parameters);

  const templateOf = (path: string): string | null => templates.find((t) => t.pattern.test(path))?.template ?? null;

  return {
    document,
    templateOf,
    violations(response) {
      const path = response.url.split('?')[0] ?? '';
      const said = `${response.method} ${response.url} → ${response.status} ${response.contentType ?? '(no Content-Type)'}`;
      const template = templateOf(path);
      // What every path the API does not have answers (the router-stack test keeps real routes documented).
      if (template === null) return isNotFound(response) ? [] : [`${said}: no path of the OpenAPI document matches ${path}`];
      const method = response.method === 'HEAD' ? 'get' : response.method.toLowerCase();
      const operation = (paths[template] as Record<string, Operation | undefined>)[method];
      if (!operation) return [`${said}: the document has no ${method.toUpperCase()} ${template}`];
      const statusKey = responseKey(operation, response.status);
      if (statusKey === null) {
        return [`${said}: ${method.toUpperCase()} ${template} documents ${Object.keys(operation.responses ?? {}).join(', ')}, not ${response.status}; body: ${excerpt(response.body)}`];
      }
      if (response.status === 304 || response.method === 'HEAD') return [];
      const content = operation.responses?.[statusKey]?.content;
      const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase() ?? null;
      // Body-less answers (204, redirects): whatever text Express puts in a redirect is not the API.
      if (!content) return [];
      if (mediaType === null || !(mediaType in content)) return [`${said}: ${method.toUpperCase()} ${template} ${statusKey} documents ${Object.keys(content).join(', ')}`];
      if (mediaType !== 'application/json') return [];
      if (response.body === undefined) return [`${said}: the body was too large to check`];
      let value: unknown;
      try {
        value = JSON.parse(response.body ?? '');
      } catch {
        return [`${said}: the body is not JSON: ${excerpt(response.body)}`];
      }
      const pointer = ['paths', template, method, 'responses', statusKey, 'content', mediaType, 'schema'].map(escapePointer).join('/');
      const validate = validatorAt(`/${pointer}`);
      if (validate(value)) return [];
      return [`${said} does not match ${method.toUpperCase()} ${template} ${statusKey}:\n${(validate.errors ?? []).map((e) => `    ${describe(e, value)}`).join('\n')}\n    body: ${excerpt(response.body)}`];
    },
  };
}

function isNotFound(response: RecordedResponse): boolean {
  if (response.status !== 404 || response.body === null || response.body === undefined) return false;
  try {
    const parsed = JSON.parse(response.body) as { error?: { code?: unknown } };
    return parsed.error?.code === 'not_found';
  } catch {
    return false;
  }
}

/** The response key a status falls under: itself, its class (`2XX`), or `default`; 304 wherever a 200 is. */
function responseKey(operation: Operation, status: number): string | null {
  const responses = operation.responses ?? {};
  if (status === 304 && '200' in responses) return '200';
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) if (key in responses) return key;
  return null;
}

function templatePattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** `/window/closesAt must be string (got 12)`: the schema's complaint beside the value it was about. */
function describe(error: ErrorObject, root: unknown): string {
  let value: unknown = root;
  for (const segment of error.instancePath.split('/').slice(1)) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  const extra = error.keyword === 'additionalProperties' ? ` "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}"` : '';
  return `${error.instancePath || '(body)'} ${error.message ?? error.keyword}${extra} (got ${JSON.stringify(value)?.slice(0, 120) ?? 'undefined'})`;
}

function excerpt(body: string | null | undefined): string {
  if (body === undefined) return '(too large to keep)';
  if (body === null) return '(not kept: not JSON)';
  return body.length > BODY_EXCERPT_CHARS ? `${body.slice(0, BODY_EXCERPT_CHARS)}…` : body || '(empty)';
}
