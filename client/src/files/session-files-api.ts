/** The Files API of the signed-in terminal page: same-origin calls that the session cookie authorises. */
import { ApiError, getJson } from '../lib/api.js';
import type { FilesApi } from './files-api.js';
import { parseListing, type FileListing } from './listing.js';
import { archiveUrl, contentUrl, listUrl } from './urls.js';
import { xhrUpload } from './xhr-upload.js';

export function sessionFilesApi(buildId: string): FilesApi {
  return {
    async listFiles(path, cursor): Promise<FileListing> {
      let body: unknown;
      try {
        body = await getJson<unknown>(listUrl(buildId, path, cursor));
      } catch (error) {
        if (error instanceof ApiError) throw error;
        // fetch rejects with a TypeError when the network fails; anything else is an answer that is not JSON.
        if (error instanceof TypeError) throw new ApiError(0, 'network', 'Could not reach the gateway. Check your network connection.');
        throw new ApiError(200, 'bad_response', 'The gateway answered with something that is not a folder listing.');
      }
      const listing = parseListing(body);
      if (!listing) throw new ApiError(200, 'bad_response', 'The gateway answered with something that is not a folder listing.');
      return listing;
    },
    downloadUrl: (path) => contentUrl(buildId, path),
    archiveUrl: (path) => archiveUrl(buildId, path),
    upload: (path, file, options) => xhrUpload(contentUrl(buildId, path, options.overwrite), file, options.progress),
  };
}
