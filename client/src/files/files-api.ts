/**
 * What the Files panel needs from the gateway, as an interface: the signed-in terminal page uses
 * its session cookie (session-files-api.ts); an embedded terminal, which has no cookie, would need
 * its own (not built: the panel is not shown in embeds).
 */
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

export interface FilesApi {
  /** A folder, one page at a time; `path` null is the login user's home. Rejects with an ApiError. */
  listFiles(path: string | null, cursor: string | null): Promise<FileListing>;
  /** A URL the browser downloads itself (its own download UI shows the progress). */
  downloadUrl(path: string): string;
  /** The same, for a folder as a .tar.gz. */
  archiveUrl(path: string): string;
  /** Sends the file as it is read from disk, never all of it in memory, to `path` on the VM. */
  upload(path: string, file: File, options: { readonly overwrite: boolean; readonly progress: UploadProgress }): UploadTransfer;
}
