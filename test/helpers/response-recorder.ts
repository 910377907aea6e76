/**
 * Records what a test gateway answers, for the OpenAPI contract check (./openapi-contract.ts):
 * wraps the server's request listener, keeps JSON bodies (bounded), and checks each response as
 * it finishes. Only ever installed by the test helpers; the gateway itself knows nothing of it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { openApiContract, type OpenApiContract } from './openapi-contract.js';

/** A JSON answer larger than this is not kept (a test listing a huge folder); the check says so. */
const MAX_RECORDED_BODY_BYTES = 1024 * 1024;
/** Pages, bundles and the like are not part of the API; their paths are neither documented nor `/api/`. */
const API_PREFIX = '/api/';

export interface ResponseRecorder {
  /** The listener to install on the HTTP server in place of `app`. */
  wrap(app: RequestListener): RequestListener;
  /** Every contract violation seen so far. */
  violations(): readonly string[];
  /** Throws one error listing every violation, if any. */
  assertKept(): void;
}

/**
 * Whether a test file checks its gateways' responses by default: the integration tests do (issue
 * #20: "every route the integration tests call"); other suites may opt in.
 */
export function checksResponsesByDefault(argv: readonly string[] = process.argv): boolean {
  return /[/\\]test[/\\]integration[/\\][^/\\]+\.test\.ts$/.test(argv[1] ?? '');
}

export function createResponseRecorder(contract: OpenApiContract = openApiContract()): ResponseRecorder {
  const found: string[] = [];
  const checked = (url: string): boolean => {
    const path = url.split('?')[0] ?? '';
    return path.startsWith(API_PREFIX) || contract.templateOf(path) !== null;
  };
  return {
    wrap: (app) => (req, res) => {
      if (checked(req.url ?? '')) record(req, res, contract, found);
      app(req, res);
    },
    violations: () => found,
    assertKept() {
      if (found.length > 0) throw new Error(`${found.length} response(s) do not match the OpenAPI document (server/src/http/openapi/):\n${found.join('\n')}`);
    },
  };
}

function record(req: IncomingMessage, res: ServerResponse, contract: OpenApiContract, found: string[]): void {
  const method = req.method ?? 'GET';
  const url = req.url ?? '';
  const chunks: Buffer[] = [];
  let bytes = 0;
  let kept = true;
  const isJson = (): boolean => /^application\/json\b/i.test(String(res.getHeader('content-type') ?? ''));
  const keep = (chunk: unknown, encoding: unknown): void => {
    if (!kept || chunk === undefined || chunk === null || typeof chunk === 'function' || !isJson()) return;
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
    bytes += buffer.length;
    if (bytes > MAX_RECORDED_BODY_BYTES) {
      kept = false;
      chunks.length = 0;
    } else chunks.push(buffer);
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    return write(...args);
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    keep(args[0], args[1]);
    return end(...args);
  }) as ServerResponse['end'];
  res.once('finish', () => {
    const contentType = res.getHeader('content-type');
    const body = !isJson() ? null : kept ? Buffer.concat(chunks).toString('utf8') : undefined;
    found.push(...contract.violations({ method, url, status: res.statusCode, contentType: contentType === undefined ? null : String(contentType), body }));
  });
}
