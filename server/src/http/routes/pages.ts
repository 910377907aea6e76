/** The browser pages: sign-in, the user's builds, and a build's remote access page. */
import { Router, type Request, type Response } from 'express';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import type { Store } from '../../store/store.js';
import type { AssetManifest } from '../assets.js';
import { loadBuildStanding } from '../../access/build-access.js';
import { buildPage, buildsPage, errorPage, type BuildAccessState } from '../views/pages.js';
import type { Html } from '../views/html.js';
import { terminalPage } from '../views/terminal-page.js';
import { screenPage } from '../views/screen-page.js';
import { cspNonceOf } from '../middleware/security-headers.js';
import { REFUSAL_MESSAGES } from '../../access/remote-access.js';

export interface PageRouteDeps {
  readonly store: Store;
  readonly assets: AssetManifest;
  readonly showNativeCredentials: boolean;
  /** PORTHOLE_WATCH: the build page lists live sessions to watch. */
  readonly watchEnabled: boolean;
  /** PORTHOLE_GRACE_MINUTES: how long after a build ends its window stays open (said on the build page). */
  readonly graceMinutes: number;
  /** PORTHOLE_RECORD_ALL: every build's terminals are recorded, whatever its app says. */
  readonly recordAll: boolean;
  readonly now: () => Date;
}

export function pagesRouter(deps: PageRouteDeps): Router {
  const router = Router();
  const { store, assets } = deps;

  router.get('/', async (req, res) => {
    const user = signedIn(req, res);
    if (!user) return;
    const builds = await store.listBuildsForUser(user.id);
    sendPage(res, 200, buildsPage({ assets: assets.forEntry('src/pages/builds.ts'), user, builds, now: deps.now() }));
  });

  router.get('/builds/:buildId', async (req, res) => {
    const user = signedIn(req, res);
    if (!user) return;
    const buildId = parseId<BuildId>(req.params['buildId']);
    const now = deps.now();
    const standing = buildId.ok ? await loadBuildStanding(store, buildId.value, user.id, now) : null;
    if (!standing) {
      return sendPage(res, 404, errorPage({ assets: assets.forEntry('src/pages/builds.ts'), user, title: 'Build not found', message: 'There is no such build on the apps you belong to.' }));
    }
    const app = await store.getApp(standing.build.appId);
    const access: BuildAccessState = standing.decision.ok
      ? { kind: 'allowed', role: standing.role }
      : { kind: standing.decision.error === 'role_forbidden' ? 'role_forbidden' : 'window_closed', role: standing.role };
    // The page still explains itself; the status tells tools and caches that access is refused.
    const status = access.kind === 'role_forbidden' ? 403 : access.kind === 'window_closed' ? 410 : 200;
    // The link only where there is something to see, or soon will be (issue #21).
    const recordingsLink = deps.recordAll || app?.recordSessions === true || (await store.listRecordings(standing.build.id)).length > 0;
    sendPage(
      res,
      status,
      buildPage({
        assets: assets.forEntry('src/pages/build.ts'),
        user,
        build: standing.build,
        appName: app?.name ?? standing.build.appId,
        access,
        showNativeCredentials: deps.showNativeCredentials,
        watchEnabled: deps.watchEnabled,
        graceMinutes: deps.graceMinutes,
        recordingsLink,
        now,
      }),
    );
  });

  router.get('/builds/:buildId/:view', async (req, res, next) => {
    const view = req.params['view'];
    if (view !== 'terminal' && view !== 'screen') return next();
    const user = signedIn(req, res);
    if (!user) return;
    const buildId = parseId<BuildId>(req.params['buildId']);
    const now = deps.now();
    const standing = buildId.ok ? await loadBuildStanding(store, buildId.value, user.id, now) : null;
    const refusalPage = (status: number, title: string, message: string): void =>
      sendPage(res, status, errorPage({ assets: assets.forEntry('src/pages/builds.ts'), user, title, message }));
    if (!standing) return refusalPage(404, 'Build not found', REFUSAL_MESSAGES.not_found);
    const title = view === 'terminal' ? 'Terminal not available' : 'Screen not available';
    if (!standing.decision.ok) {
      const refusal = standing.decision.error;
      return refusalPage(refusal === 'window_closed' ? 410 : 403, title, REFUSAL_MESSAGES[refusal]);
    }
    const { build } = standing;
    const appName = (await store.getApp(build.appId))?.name ?? build.appId;
    const nonce = cspNonceOf(res);
    if (view === 'terminal') {
      return sendPage(res, 200, terminalPage({ assets: assets.forEntry('src/pages/terminal.ts'), nonce, build, appName, userId: user.id }));
    }
    if (build.stack !== 'macos' || build.vnc === null) return refusalPage(404, title, 'This build has no screen to share: screens are available on macOS builds.');
    sendPage(res, 200, screenPage({ assets: assets.forEntry('src/pages/screen.ts'), nonce, build, appName, now, userId: user.id }));
  });

  return router;
}

function signedIn(req: Request, res: Response): Express.User | null {
  if (req.user) return req.user;
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  return null;
}

function sendPage(res: Response, status: number, page: Html): void {
  res.status(status).type('html').set('Cache-Control', 'no-store').send(page.value);
}
