/**
 * Security headers for every response. The CSP allows only our own bundles: no inline script, and
 * inline styles only with this response's nonce (xterm.js creates <style> elements; the page
 * script stamps the nonce on them). Text from a hostile VM that slipped into markup could not run.
 *
 * Nothing may frame a response, except an embed page, which exactly one allowed dashboard origin
 * may frame (../embed-framing.ts); that page also sends no Referer anywhere.
 */
import { randomBytes } from 'node:crypto';
import helmet from 'helmet';
import type { Request, RequestHandler, Response } from 'express';

/** 128 bits: unguessable for the lifetime of one page. */
const CSP_NONCE_BYTES = 16;

export function cspNonceOf(res: Response): string {
  const nonce: unknown = res.locals['cspNonce'];
  return typeof nonce === 'string' ? nonce : '';
}

/** The one origin that may frame this response, or null for none. */
export function frameAncestorOf(res: Response): string | null {
  const origin: unknown = res.locals['frameAncestor'];
  return typeof origin === 'string' ? origin : null;
}

/** `frameAncestorFor`: which origin may frame the response to this request, if any. */
export function securityHeaders(secure: boolean, frameAncestorFor: (req: Request) => string | null): RequestHandler[] {
  const decide: RequestHandler = (req, res, next) => {
    res.locals['cspNonce'] = randomBytes(CSP_NONCE_BYTES).toString('base64');
    res.locals['frameAncestor'] = frameAncestorFor(req);
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
        frameAncestors: [(_req, res) => frameAncestorOf(res as Response) ?? "'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    crossOriginEmbedderPolicy: false,
    // Both depend on the response's framing; set below.
    frameguard: false,
    referrerPolicy: false,
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  const framing: RequestHandler = (_req, res, next) => {
    if (frameAncestorOf(res) === null) {
      // For browsers without CSP frame-ancestors; it would conflict with an allowed parent.
      res.setHeader('X-Frame-Options', 'DENY');
      // 'no-referrer' would make Chromium send `Origin: null` on our own form posts, defeating the CSRF check.
      res.setHeader('Referrer-Policy', 'same-origin');
    } else {
      // The embed page's address is nobody else's business; its own API calls keep their Origin (client/src/lib/embed-session.ts).
      res.setHeader('Referrer-Policy', 'no-referrer');
    }
    next();
  };
  return [decide, headers, framing];
}
