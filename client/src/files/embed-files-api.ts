/**
 * The Files API of an embedded terminal, which has no cookie: its embed credential goes as an
 * Authorization header on calls, and in the body of the form it posts to download (a link could
 * not carry it, and nothing secret goes in a URL). The form's answer is the browser's download;
 * a refusal answers it with 204, which leaves the page alone, so the page first asks with a call
 * that says why it would be refused.
 */
import { errorOf } from '../lib/connection-ticket.js';
import { describeError, describeRefusal, type FilesProblem } from './errors.js';
import type { DownloadWhat, FilesApi } from './files-api.js';
import { fetchListing } from './listing-call.js';
import { archiveUrl, contentUrl, downloadFormUrl, listUrl } from './urls.js';
import { xhrUpload } from './xhr-upload.js';

export function embedFilesApi(buildId: string, credential: string): FilesApi {
  const authorization = { Authorization: `Bearer ${credential}` };
  return {
    listFiles: (path, cursor) => fetchListing(listUrl(buildId, path, cursor), { credentials: 'omit', headers: authorization }),
    download: (path, what) => ({
      href: what === 'file' ? contentUrl(buildId, path) : archiveUrl(buildId, path),
      start: async () => {
        const problem = await checkDownload(buildId, path, what, authorization);
        if (problem === null) postDownloadForm(buildId, { credential, path, as: what });
        return problem;
      },
    }),
    upload: (path, file, options) => xhrUpload(contentUrl(buildId, path, options.overwrite), file, options.progress, authorization),
  };
}

/** Would the download be refused, and why: the file's first byte, or the folder's first page (what a tar needs). */
async function checkDownload(buildId: string, path: string, what: DownloadWhat, authorization: Readonly<Record<string, string>>): Promise<FilesProblem | null> {
  if (what === 'folder') {
    try {
      await fetchListing(listUrl(buildId, path, null), { credentials: 'omit', headers: authorization });
      return null;
    } catch (error) {
      return describeError(error);
    }
  }
  let res: Response;
  try {
    res = await fetch(contentUrl(buildId, path), { credentials: 'omit', cache: 'no-store', headers: { ...authorization, Range: 'bytes=0-0' } });
  } catch (error) {
    return describeError(error);
  }
  // 416: an empty file, which has no first byte but downloads all the same.
  if (res.ok || res.status === 416) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  const body: unknown = await res.json().catch(() => null);
  const error = errorOf(body);
  return describeRefusal(res.status, error?.code ?? 'http_error', error?.message ?? '');
}

/** Posts the form into this page: the answer is an attachment (the browser's download) or a 204 (nothing happens). */
function postDownloadForm(buildId: string, fields: Readonly<Record<string, string>>): void {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = downloadFormUrl(buildId);
  form.hidden = true;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
  form.remove();
}
