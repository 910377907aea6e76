/**
 * The embed pages (/embed/terminal, /embed/screen) and the SDK that frames them. The pages hold
 * nothing secret and read no cookie: the page's script exchanges the launch token from its
 * fragment. Whether the page may be framed, and by whom, was decided with the security headers.
 */
import { basename, join, posix } from 'node:path';
import { Router, type Response } from 'express';
import { EMBED_SDK_PATH } from '../../../../shared/src/embed.js';
import { GatewayError } from '../../errors.js';
import type { AssetManifest } from '../assets.js';
import { embedPageKind } from '../embed-framing.js';
import { cspNonceOf, frameAncestorOf } from '../middleware/security-headers.js';
import { embedTerminalPage } from '../views/terminal-page.js';
import { embedScreenPage } from '../views/screen-page.js';

/**
 * The SDK keeps one URL across deploys, so browsers must come back for it; five minutes keeps a
 * busy dashboard from asking on every page view.
 */
const SDK_MAX_AGE_MS = 5 * 60_000;

export function embedPagesRouter(deps: { readonly assets: AssetManifest; readonly clientDir: string }): Router {
  const router = Router();
  const { assets } = deps;

  router.get(['/embed/terminal', '/embed/screen'], (req, res) => {
    if (frameAncestorOf(res) === null) {
      throw new GatewayError('forbidden_origin', 'This page only opens inside a dashboard that this gateway allows to embed it.');
    }
    const nonce = cspNonceOf(res);
    const page =
      embedPageKind(req.path) === 'vnc'
        ? embedScreenPage({ assets: assets.forEntry('src/pages/embed-screen.ts'), nonce })
        : embedTerminalPage({ assets: assets.forEntry('src/pages/embed-terminal.ts'), nonce });
    res.status(200).type('html').set('Cache-Control', 'no-store').send(page.value);
  });

  // Loaded by other sites' pages, as a module script (a CORS request) or a classic one.
  const sdkFile = join(deps.clientDir, assets.sdkFile);
  const crossSite = (res: Response): void => {
    res.set('Access-Control-Allow-Origin', '*');
    res.set('Cross-Origin-Resource-Policy', 'cross-origin');
  };
  router.get(EMBED_SDK_PATH, (_req, res) => {
    crossSite(res);
    res.sendFile(sdkFile, { maxAge: SDK_MAX_AGE_MS, headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });
  // The bundle's sourceMappingURL is relative, so it resolves beside the SDK's own URL.
  router.get(posix.join(posix.dirname(EMBED_SDK_PATH), `${basename(assets.sdkFile)}.map`), (_req, res) => {
    crossSite(res);
    res.sendFile(`${sdkFile}.map`, { maxAge: SDK_MAX_AGE_MS });
  });

  return router;
}
