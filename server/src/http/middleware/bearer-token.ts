/**
 * Bearer-token checks for the machine-facing endpoints (control API, audit, metrics). Digests are
 * compared, so the comparison is constant-time even when the lengths differ.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { GatewayError } from '../../errors.js';

/** `token` null: the endpoint is switched off and answers `disabled`, whatever the header says. */
export function requireBearerToken(token: string | null, disabled: GatewayError, tokenName: string): RequestHandler {
  const expected = token === null ? null : digest(token);
  return (req, _res, next) => {
    if (expected === null) return next(disabled);
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      return next(new GatewayError('unauthenticated', `A valid "Authorization: Bearer <${tokenName}>" header is required.`));
    }
    next();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
