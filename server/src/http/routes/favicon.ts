/** The tab icon: a porthole ring, served inline so it needs no build step. */
import { Router } from 'express';

const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="13" fill="none" stroke="#0b6bcb" stroke-width="5"/><circle cx="16" cy="16" r="6" fill="#0b6bcb"/></svg>';
/** The icon never changes between releases. */
const FAVICON_MAX_AGE_S = 7 * 24 * 60 * 60;

export function faviconRouter(): Router {
  const router = Router();
  router.get(['/favicon.svg', '/favicon.ico'], (_req, res) => {
    res.type('image/svg+xml').set('Cache-Control', `public, max-age=${FAVICON_MAX_AGE_S}`).send(FAVICON_SVG);
  });
  return router;
}
