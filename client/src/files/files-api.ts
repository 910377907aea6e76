/**
 * What the Files panel needs from the gateway, as an interface: the signed-in terminal page uses
 * its session cookie (session-files-api.ts); an embedded terminal, which has none, its embed
 * credential (embed-files-api.ts).
 */
import type { FilesProblem } from './errors.js';
import type { FileListing } from './listing.js';

/** Bytes sent so far of the total, as the browser reports them. */
export type UploadProgress = (loaded: number, total: number) => void;

export type UploadOutcome =
  | { readonly kind: 'uploaded' }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string };

export interface UploadTransfer {
  /** Settles once, never rejects. */
  readonly done: Promise<UploadOutcome>;
  cancel(): void;
}

/** A download the browser makes itself, so its own download UI shows the progress. */
export interface DownloadLink {
  /** What the link points at, and follows unless `start` is set. */
  readonly href: string;
  /** Starts the download instead of following `href`; resolves with what to tell the user, if it could not. */
  readonly start?: () => Promise<FilesProblem | null>;
}

export type DownloadWhat = 'file' | 'folder';

export interface FilesApi {
  /** A folder, one page at a time; `path` null is the login user's home. Rejects with an ApiError. */
  listFiles(path: string | null, cursor: string | null): Promise<FileListing>;
  /** A file, or a folder as a .tar.gz. */
  download(path: string, what: DownloadWhat): DownloadLink;
  /** Sends the file as it is read from disk, never all of it in memory, to `path` on the VM. */
  upload(path: string, file: File, options: { readonly overwrite: boolean; readonly progress: UploadProgress }): UploadTransfer;
}
