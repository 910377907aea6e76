/**
 * Session recordings for the allowed users of the app each was made under: the list (JSON and
 * page), the replay page and the asciicast download. Same policy as the terminal, without the
 * window: non-members get 404, testers 403 (../recording-access.ts).
 */
import { Router, type Request, type Response } from 'express';
import { parseId, type BuildId, type RecordingId, type UserId } from '../../../../shared/src/ids.js';
import type { RecordingView } from '../../../../shared/src/api.js';
import { GatewayError } from '../../errors.js';
import type { BuildRecord, RecordingRecord, Store } from '../../store/store.js';
import type { AssetManifest } from '../assets.js';
import { loadRecordingAccess, RECORDING_REFUSAL_MESSAGES, type RecordingAccess } from '../../access/recording-access.js';
import { parseRecordingId, recordingFileName } from '../../recording/recorder.js';
import { errorPage } from '../views/pages.js';
import { recordingsPage, replayPage } from '../views/recordings-page.js';
import type { Html } from '../views/html.js';

/** asciinema-player compiles its terminal emulator to WebAssembly, which CSP blocks unless allowed. */
const WASM_SCRIPT_SOURCE = "'wasm-unsafe-eval'";

export interface RecordingRouteDeps {
  readonly store: Store;
  readonly assets: AssetManifest;
  readonly dir: string;
}

export function recordingsRouter(deps: RecordingRouteDeps): Router {
  const router = Router();
  const { store } = deps;

  router.get('/api/v1/builds/:buildId/recordings', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { build, recordings } = await allowedBuild(req, store);
    res.json({ recordings: await views(store, build, recordings) });
  });

  router.get('/api/v1/builds/:buildId/recordings/:recordingId', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const access = await allowedBuild(req, store);
    const { build } = access;
    const recording = recordingOf(access, req.params['recordingId']);
    res.set('Content-Disposition', `attachment; filename="build-${build.id}-${recording.id}.cast"`);
    await new Promise<void>((resolve, reject) => {
      res.sendFile(recordingFileName(recording.id), { root: deps.dir, dotfiles: 'deny', headers: { 'Content-Type': 'application/x-asciicast' } }, (error) => {
        if (!error) return resolve();
        // The row outlived its file (retention sweep in between, or a disk problem).
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !res.headersSent) reject(new GatewayError('not_found', 'This recording is no longer available.'));
        else reject(error);
      });
    });
  });

  router.get('/builds/:buildId/recordings', async (req, res) => {
    const user = signedIn(req, res);
    if (!user) return;
    const access = await pageBuild(req, res, deps, user.id);
    if (!access) return;
    const { build } = access;
    const appName = (await store.getApp(build.appId))?.name ?? build.appId;
    const recordings = await views(store, build, access.recordings);
    sendPage(res, 200, recordingsPage({ assets: deps.assets.forEntry('src/pages/builds.ts'), user, build, appName, recordings }));
  });

  router.get('/builds/:buildId/recordings/:recordingId', async (req, res) => {
    const user = signedIn(req, res);
    if (!user) return;
    const access = await pageBuild(req, res, deps, user.id);
    if (!access) return;
    const { build } = access;
    const id = parseRecordingId(req.params['recordingId']);
    const recording = access.recordings.find((r) => r.id === id);
    if (!recording) {
      return sendPage(res, 404, errorPage({ assets: deps.assets.forEntry('src/pages/builds.ts'), user, title: 'Recording not found', message: 'This build has no such recording.' }));
    }
    const [view] = await views(store, build, [recording]);
    if (!view) throw new Error('recording view missing');
    allowWasm(res);
    sendPage(res, 200, replayPage({ assets: deps.assets.forEntry('src/pages/replay.ts'), user, build, recording: view }));
  });

  return router;
}

async function allowedBuild(req: Request, store: Store): Promise<RecordingAccess> {
  const user = req.user;
  if (!user) throw new GatewayError('unauthenticated', 'Sign in first.');
  const buildId = parseId<BuildId>(req.params['buildId']);
  const access = buildId.ok ? await loadRecordingAccess(store, buildId.value, user.id) : null;
  if (!access) throw new GatewayError('not_found', RECORDING_REFUSAL_MESSAGES.not_found);
  if (!access.ok) throw new GatewayError(access.error, RECORDING_REFUSAL_MESSAGES[access.error]);
  return access.value;
}

function recordingOf(access: RecordingAccess, raw: unknown): RecordingRecord {
  const id: RecordingId | null = parseRecordingId(raw);
  // Another build's recording, or one made under an app the user has no say in, is as unknown as a made-up id.
  const recording = access.recordings.find((r) => r.id === id);
  if (!recording) throw new GatewayError('not_found', 'This build has no such recording.');
  return recording;
}

async function pageBuild(req: Request, res: Response, deps: RecordingRouteDeps, userId: UserId): Promise<RecordingAccess | null> {
  const buildId = parseId<BuildId>(req.params['buildId']);
  const access = buildId.ok ? await loadRecordingAccess(deps.store, buildId.value, userId) : null;
  if (access?.ok) return access.value;
  const refusal = access?.ok === false ? access.error : 'not_found';
  const title = refusal === 'not_found' ? 'Build not found' : 'Recordings not available';
  const user = req.user;
  sendPage(
    res,
    refusal === 'not_found' ? 404 : 403,
    errorPage({ assets: deps.assets.forEntry('src/pages/builds.ts'), user: user ?? null, title, message: RECORDING_REFUSAL_MESSAGES[refusal] }),
  );
  return null;
}

async function views(store: Store, build: BuildRecord, recordings: readonly RecordingRecord[]): Promise<RecordingView[]> {
  const names = new Map<string, string | null>();
  for (const r of recordings) {
    if (names.has(r.userId)) continue;
    const user = await store.getUser(r.userId);
    names.set(r.userId, user ? (user.name ?? user.email) : null);
  }
  return recordings.map((r) => ({
    id: r.id,
    userId: r.userId,
    userName: names.get(r.userId) ?? null,
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt?.toISOString() ?? null,
    sizeBytes: r.sizeBytes,
    droppedBytes: r.droppedBytes,
    url: `/api/v1/builds/${build.id}/recordings/${r.id}`,
    replayUrl: `/builds/${build.id}/recordings/${r.id}`,
  }));
}

/** Only the replay page gets WebAssembly; every other page keeps the plain `script-src 'self'`. */
function allowWasm(res: Response): void {
  const policy = res.get('Content-Security-Policy');
  if (policy) res.set('Content-Security-Policy', policy.replace(/(^|;)(\s*script-src [^;]*)/, `$1$2 ${WASM_SCRIPT_SOURCE}`));
}

function signedIn(req: Request, res: Response): Express.User | null {
  if (req.user) return req.user;
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  return null;
}

function sendPage(res: Response, status: number, page: Html): void {
  res.status(status).type('html').set('Cache-Control', 'no-store').send(page.value);
}
