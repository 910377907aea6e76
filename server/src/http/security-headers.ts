/**
 * Security headers for every response. The CSP allows only our own bundles: no inline script, and
 * inline styles only with this response's nonce (xterm.js creates <style> elements; the page
 * script stamps the nonce on them). Text from a hostile VM that slipped into markup could not run.
 */
import { randomBytes } from 'node:crypto';
import helmet from 'helmet';
import type { RequestHandler, Response } from 'express';

/** 128 bits: unguessable for the lifetime of one page. */
const CSP_NONCE_BYTES = 16;

export function cspNonceOf(res: Response): string {
  const nonce: unknown = res.locals['cspNonce'];
  return typeof nonce === 'string' ? nonce : '';
}

export function securityHeaders(secure: boolean): RequestHandler[] {
  const assignNonce: RequestHandler = (_req, res, next) => {
    res.locals['cspNonce'] = randomBytes(CSP_NONCE_BYTES).toString('base64');
    next();
  };
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", (_req, res) => `'nonce-${cspNonceOf(res as Response)}'`],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    crossOriginEmbedderPolicy: false,
    frameguard: { action: 'deny' },
    // 'no-referrer' would make Chromium send `Origin: null` on our own form posts, defeating the CSRF check.
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  return [assignNonce, headers];
}
