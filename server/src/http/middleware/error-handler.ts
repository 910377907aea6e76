/**
 * The one place errors become responses. API callers get `{error:{code,message}}`; browsers
 * navigating get a page. Unexpected errors are logged with a stack and answered generically.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { GatewayError, storeUnavailableError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { AssetManifest } from '../assets.js';
import { errorPage } from '../views/pages.js';
import { isStoreUnavailable } from '../../store/store-errors.js';

interface BodyParserError {
  readonly type: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string' && 'status' in error;
}

/** Maps body-parser's failures to our codes; anything else is not a GatewayError. */
function toGatewayError(error: unknown): GatewayError | null {
  if (error instanceof GatewayError) return error;
  if (isStoreUnavailable(error)) return storeUnavailableError();
  // serve-static reports a missing file as an http-errors 404.
  if (typeof error === 'object' && error !== null && (error as { status?: unknown }).status === 404) {
    return new GatewayError('not_found', 'Nothing here.');
  }
  if (!isBodyParserError(error)) return null;
  switch (error.type) {
    case 'entity.too.large':
      return new GatewayError('payload_too_large', 'The request body is too large.');
    case 'entity.parse.failed':
      return new GatewayError('invalid_json', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GatewayError('unsupported_media_type', 'Send the body as UTF-8.');
    default:
      return new GatewayError('bad_request', 'The request body could not be read.');
  }
}

function wantsJsonResponse(req: Request): boolean {
  return req.path.startsWith('/api/') || req.is('application/json') === 'application/json' || !req.accepts('html');
}

export function notFoundHandler(): RequestHandler {
  return (_req, _res, next) => next(new GatewayError('not_found', 'Nothing here.'));
}

export function errorHandler(logger: Logger, assets: AssetManifest): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toGatewayError(error);
    const gatewayError = known ?? new GatewayError('internal', 'Something went wrong on our side.');
    if (!known) logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    res.status(gatewayError.status);
    if (wantsJsonResponse(req)) {
      res.json(gatewayError.toBody());
      return;
    }
    const page = errorPage({
      assets: assets.forEntry('src/pages/builds.ts'),
      user: req.user ?? null,
      title: gatewayError.status === 404 ? 'Page not found' : 'Request refused',
      message: gatewayError.message,
    });
    res.type('html').send(page.value);
  };
}
