/** The Files API of the signed-in terminal page: same-origin calls that the session cookie authorises. */
import type { FilesApi } from './files-api.js';
import { fetchListing } from './listing-call.js';
import { archiveUrl, contentUrl, listUrl } from './urls.js';
import { xhrUpload } from './xhr-upload.js';

export function sessionFilesApi(buildId: string): FilesApi {
  return {
    listFiles: (path, cursor) => fetchListing(listUrl(buildId, path, cursor), {}),
    // Plain links: the cookie goes with them, and a broken download resumes with Range.
    download: (path, what) => ({ href: what === 'file' ? contentUrl(buildId, path) : archiveUrl(buildId, path) }),
    upload: (path, file, options) => xhrUpload(contentUrl(buildId, path, options.overwrite), file, options.progress),
  };
}
