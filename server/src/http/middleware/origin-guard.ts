/**
 * CSRF protection for cookie-authenticated, state-changing routes: the request must come from the
 * gateway's own origin. Browsers always send `Origin` on cross-origin POSTs and `Sec-Fetch-Site` on
 * everything, so a forged request cannot pass; a script or test that sends our own Origin can.
 */
import type { RequestHandler } from 'express';
import { GatewayError } from '../../errors.js';

export type OriginVerdict = 'same_origin' | 'cross_origin' | 'unknown';

export function judgeOrigin(headers: { origin?: string | undefined; 'sec-fetch-site'?: string | undefined }, ownOrigin: string): OriginVerdict {
  const origin = headers.origin;
  if (origin !== undefined) return origin === ownOrigin ? 'same_origin' : 'cross_origin';
  const site = headers['sec-fetch-site'];
  if (site === undefined) return 'unknown';
  return site === 'same-origin' ? 'same_origin' : 'cross_origin';
}

export function requireSameOrigin(ownOrigin: string): RequestHandler {
  return (req, _res, next) => {
    const verdict = judgeOrigin({ origin: req.get('origin'), 'sec-fetch-site': req.get('sec-fetch-site') }, ownOrigin);
    if (verdict === 'same_origin') return next();
    next(
      new GatewayError(
        'forbidden_origin',
        verdict === 'unknown'
          ? 'This request needs an Origin header naming this gateway.'
          : 'Cross-site requests are not allowed.',
      ),
    );
  };
}

/**
 * For cookie-authenticated reads that start something costly (a file download): refused only
 * when the browser says another site asked. A typed URL or a reload (`Sec-Fetch-Site: none`) and
 * scripts without these headers pass; a forged `<img>` or link on another site does not.
 */
export function isCrossSiteRequest(headers: { origin?: string | undefined; 'sec-fetch-site'?: string | undefined }, ownOrigin: string): boolean {
  if (headers.origin !== undefined && headers.origin !== ownOrigin) return true;
  const site = headers['sec-fetch-site'];
  return site === 'cross-site' || site === 'same-site';
}
