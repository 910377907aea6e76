/**
 * Files on the build's VM (issue #17, docs/api.md "Files"): list a folder, download a file or a
 * folder (tar.gz), upload a file. Access is the terminal's — an allowed role, the window open —
 * with the signed-in user's cookie or an embed page's credential (`Authorization: Bearer`), and
 * every operation is held to it while it runs (../../files/transfer-gate.ts). The browser names
 * a path on the build's own VM, never a host.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { parseId, type BuildId } from '../../../../shared/src/ids.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Store } from '../../store/store.js';
import type { EventSink } from '../../audit/events.js';
import type { EmbedCredentialBook } from '../../connections/embed-credentials.js';
import { signInIdOf } from '../../auth/sign-in-id.js';
import { isCrossSiteRequest, requireSameOrigin } from '../middleware/origin-guard.js';
import { credentialOf, redeemCredential } from './embed.js';
import type { EmbedCredentialClaims } from '../../connections/embed-credentials.js';
import { decideFileOperation, type FileOperation, type FileTransferMode } from '../../files/transfer-mode.js';
import { parsePathParam } from '../../files/vm-path.js';
import { decodeCursor, listFolder } from '../../files/listing.js';
import { openTransfer, type Requester, type Transfer, type TransferGateDeps } from '../../files/transfer-gate.js';
import { sendFile } from '../../files/download.js';
import { sendFolderArchive } from '../../files/archive.js';
import { receiveFile, tooLargeError } from '../../files/upload.js';

export interface FilesRouteDeps {
  readonly mode: FileTransferMode;
  readonly maxUploadBytes: number;
  /** PORTHOLE_UPLOAD_IDLE_SECONDS: an upload whose bytes stop coming this long is cut. */
  readonly uploadIdleMs: number;
  readonly publicOrigin: string;
  readonly store: Store;
  /** Embed pages' credentials, for embedded terminals (docs/embedding.md). */
  readonly credentials: EmbedCredentialBook;
  readonly gate: TransferGateDeps;
  readonly events: EventSink;
  readonly logger: Logger;
}

const UPLOAD_PATH = /^\/api\/v1\/builds\/[^/]+\/files\/content$/;
/**
 * The embedded terminal's download form: a credential, a path of at most 4096 characters, each
 * percent-encoded up to threefold, and what to download.
 */
const DOWNLOAD_FORM_LIMIT_BYTES = 32 * 1024;
/** credential, path, as: a form with more fields is not ours. */
const DOWNLOAD_FORM_MAX_FIELDS = 3;

/** The one request the whole-request deadline spares (../middleware/body-deadline.ts). */
export function isFileUpload(req: Request): boolean {
  return req.method === 'PUT' && UPLOAD_PATH.test(req.path);
}

const EMBED_NOT_ALLOWED = 'This embedded view cannot move files: only an embedded terminal of this build can.';

export function filesRouter(deps: FilesRouteDeps): Router {
  const router = Router();

  router.get('/builds/:buildId/files', async (req, res) => {
    const { who, buildId } = await admit(deps, req, 'list');
    const path = optionalPath(req);
    const cursor = decodeCursor(req.query['cursor']);
    if (!cursor.ok) throw new GatewayError('invalid_field', cursor.error);
    const transfer = await openTransfer(deps.gate, who, buildId, false);
    try {
      const listing = await listFolder(transfer.vm.sftp, path, cursor.value, transfer.signal);
      res.set('Cache-Control', 'no-store').json(listing);
    } finally {
      transfer.close();
    }
  });

  router.get('/builds/:buildId/files/content', async (req, res) => {
    const { who, buildId } = await admit(deps, req, 'download');
    await downloadFile(deps, who, buildId, requiredPath(req), req, res);
  });

  router.get('/builds/:buildId/files/archive', async (req, res) => {
    const { who, buildId } = await admit(deps, req, 'download');
    await downloadFolder(deps, who, buildId, requiredPath(req), res);
  });

  // The embedded terminal's downloads: it has no cookie for a link to carry, so the page posts a
  // form with its credential in the body (never in a URL) and the browser's own download UI takes
  // the response. Not resumable (a POST), unlike the signed-in page's links.
  router.post('/builds/:buildId/files/download', express.urlencoded({ extended: false, limit: DOWNLOAD_FORM_LIMIT_BYTES, parameterLimit: DOWNLOAD_FORM_MAX_FIELDS }), async (req, res) => {
    try {
      await formDownload(deps, req, res);
    } catch (error) {
      // A refusal answering the form's navigation would replace the page, terminal and all; 204
      // leaves it as it is. The page checked first with a call that says why (client/src/files/embed-files-api.ts).
      if (!isNavigation(req) || res.headersSent || !(error instanceof GatewayError)) throw error;
      deps.logger.info({ event: 'file_download_refused', buildId: req.params['buildId'], code: error.code }, 'embedded download refused');
      res.status(204).end();
    }
  });

  // One upload per connection: a refused one's body is never read on, and the socket goes with the answer.
  const oneUploadPerConnection: RequestHandler = (_req, res, next) => {
    res.set('Connection', 'close');
    next();
  };
  router.put('/builds/:buildId/files/content', oneUploadPerConnection, requireSameOrigin(deps.publicOrigin), async (req, res) => {
    await upload(deps, req, res);
  });

  return router;
}

async function upload(deps: FilesRouteDeps, req: Request, res: Response): Promise<void> {
  const { who, buildId } = await admit(deps, req, 'upload');
  const path = requiredPath(req);
  const overwrite = req.query['overwrite'] === 'true';
  const declared = req.get('content-length');
  // Refused before anything is dialled when the browser says how much is coming.
  if (declared !== undefined && Number(declared) > deps.maxUploadBytes) throw tooLargeError(deps.maxUploadBytes);
  const transfer = await openTransfer(deps.gate, who, buildId, true);
  req.setTimeout(deps.uploadIdleMs, () => req.destroy());
  try {
    const outcome = await receiveFile(transfer, req, { path, overwrite, maxBytes: deps.maxUploadBytes });
    deps.events.record({ type: 'file_uploaded', userId: who.userId, buildId, path, bytes: outcome.bytes, sha256: outcome.sha256 ?? '', overwrite });
    res.status(201).set('Cache-Control', 'no-store').json(outcome.view);
  } finally {
    transfer.close();
  }
}

/** The mode, the caller (cookie or embed credential) and the build id; the policy is the gate's. */
async function admit(deps: FilesRouteDeps, req: Request, operation: FileOperation): Promise<{ who: Requester; buildId: BuildId }> {
  const allowed = decideFileOperation(deps.mode, operation);
  if (!allowed.ok) throw new GatewayError('file_transfer_disabled', allowed.error);
  const parsed = parseId<BuildId>(req.params['buildId']);
  const buildId = parsed.ok ? parsed.value : null;
  const user = req.user;
  if (user) {
    if (operation !== 'upload' && isCrossSiteRequest({ origin: req.get('origin'), 'sec-fetch-site': req.get('sec-fetch-site') }, deps.publicOrigin)) {
      throw new GatewayError('forbidden_origin', 'Cross-site requests are not allowed.');
    }
    if (buildId === null) throw new GatewayError('not_found', 'No such build.');
    return { who: { userId: user.id, sessionEpoch: user.sessionEpoch, signInId: signInIdOf(req.sessionID) }, buildId };
  }
  if (req.get('authorization') === undefined) throw new GatewayError('unauthenticated', 'Sign in first.');
  return embeddedRequester(await credentialOf(req, deps), buildId);
}

/** An embedded terminal of this build may move files, as its user could in the terminal; a screen or a watch view may not. */
function embeddedRequester(claims: EmbedCredentialClaims, buildId: BuildId | null): { who: Requester; buildId: BuildId } {
  if (buildId === null || claims.buildId !== buildId || claims.kind !== 'ssh' || claims.viewOnly || claims.watchSessionId !== null) throw new GatewayError('role_forbidden', EMBED_NOT_ALLOWED);
  return { who: { userId: claims.userId, sessionEpoch: claims.sessionEpoch, signInId: null }, buildId };
}

/** The embedded terminal's download form: `credential`, `path` and `as` (`file` or `folder`). */
async function formDownload(deps: FilesRouteDeps, req: Request, res: Response): Promise<void> {
  const allowed = decideFileOperation(deps.mode, 'download');
  if (!allowed.ok) throw new GatewayError('file_transfer_disabled', allowed.error);
  // The credential, not a cookie, is what speaks for the user here; a cross-site form is refused all the same.
  // The embed page sends no Referer, so Chromium sends `Origin: null` with its own form: Sec-Fetch-Site decides then.
  const origin = req.get('origin');
  if (isCrossSiteRequest({ origin: origin === 'null' ? undefined : origin, 'sec-fetch-site': req.get('sec-fetch-site') }, deps.publicOrigin)) {
    throw new GatewayError('forbidden_origin', 'Cross-site requests are not allowed.');
  }
  const form = (req.body ?? {}) as Record<string, unknown>;
  const credential = form['credential'];
  if (typeof credential !== 'string' || credential === '') throw new GatewayError('unauthenticated', 'An embed credential is required (the form field "credential").');
  const as = form['as'];
  if (as !== 'file' && as !== 'folder') throw new GatewayError('invalid_field', 'as: "file" or "folder"');
  const parsedPath = parsePathParam(form['path']);
  if (!parsedPath.ok) throw new GatewayError('invalid_field', parsedPath.error);
  const path = parsedPath.value;
  if (path === null) throw new GatewayError('invalid_field', 'path: name the file or folder on the VM');
  const parsed = parseId<BuildId>(req.params['buildId']);
  const { who, buildId } = embeddedRequester(await redeemCredential(credential, deps), parsed.ok ? parsed.value : null);
  await (as === 'file' ? downloadFile(deps, who, buildId, path, req, res) : downloadFolder(deps, who, buildId, path, res));
}

async function downloadFile(deps: FilesRouteDeps, who: Requester, buildId: BuildId, path: string, req: Request, res: Response): Promise<void> {
  await withTransfer(deps, who, buildId, res, async (transfer) => {
    const outcome = await sendFile(transfer, path, req, res);
    deps.events.record({ type: 'file_downloaded', userId: who.userId, buildId, path, ...outcome });
  });
}

async function downloadFolder(deps: FilesRouteDeps, who: Requester, buildId: BuildId, path: string, res: Response): Promise<void> {
  await withTransfer(deps, who, buildId, res, async (transfer) => {
    const outcome = await sendFolderArchive(transfer, path, res);
    if (outcome.stderr.length > 0 || !outcome.complete) {
      deps.logger.info({ event: 'folder_archive_incomplete', buildId, complete: outcome.complete, tarSaid: outcome.stderr }, 'folder archive');
    }
    deps.events.record({ type: 'folder_downloaded', userId: who.userId, buildId, path: outcome.path, bytes: outcome.bytes, complete: outcome.complete });
  });
}

/** A page's own navigation (a form it posted), as opposed to a script's call. */
function isNavigation(req: Request): boolean {
  return req.get('sec-fetch-mode') === 'navigate';
}

/** `path`, or null (the home folder) when absent. */
function optionalPath(req: Request): string | null {
  const parsed = parsePathParam(req.query['path']);
  if (!parsed.ok) throw new GatewayError('invalid_field', parsed.error);
  return parsed.value;
}

function requiredPath(req: Request): string {
  const path = optionalPath(req);
  if (path === null) throw new GatewayError('invalid_field', 'path: name the file or folder on the VM');
  return path;
}

/** Opens a counted transfer, runs `send`, and closes it whatever happened; a failure after the headers cuts the response. */
async function withTransfer(deps: FilesRouteDeps, who: Requester, buildId: BuildId, res: Response, send: (transfer: Transfer) => Promise<void>): Promise<void> {
  const transfer = await openTransfer(deps.gate, who, buildId, true);
  // The browser went: stop reading the VM at once.
  res.once('close', () => {
    if (!res.writableFinished) transfer.close();
  });
  try {
    await send(transfer);
  } catch (error) {
    if (!res.headersSent) throw error;
    deps.logger.warn({ event: 'file_transfer_failed', buildId, err: error }, 'file transfer failed after its headers');
    res.destroy();
  } finally {
    transfer.close();
  }
}
