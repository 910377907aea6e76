/**
 * One upload as an XMLHttpRequest PUT of the File itself: the browser streams it from disk and
 * reports progress (fetch cannot report upload progress). Same-origin, so the session cookie and
 * the page's Origin go with it, which the gateway's CSRF guard checks.
 */
import { errorOf } from '../lib/connection-ticket.js';
import type { UploadOutcome, UploadProgress, UploadTransfer } from './files-api.js';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function xhrUpload(url: string, body: Blob, progress: UploadProgress, headers: Readonly<Record<string, string>> = {}): UploadTransfer {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadOutcome>((resolve) => {
    xhr.open('PUT', url);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener('progress', (e) => progress(e.loaded, e.lengthComputable ? e.total : body.size));
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        progress(body.size, body.size);
        resolve({ kind: 'uploaded' });
        return;
      }
      const error = errorOf(parseJson(xhr.responseText));
      resolve({ kind: 'refused', status: xhr.status, code: error?.code ?? 'http_error', message: error?.message ?? `The gateway refused the upload (${xhr.status}).` });
    });
    xhr.addEventListener('error', () =>
      resolve({ kind: 'refused', status: 0, code: 'network', message: 'The upload was cut off: the gateway could not be reached, or it closed the connection.' }),
    );
    xhr.addEventListener('abort', () => resolve({ kind: 'cancelled' }));
    xhr.send(body);
  });
  return { done, cancel: () => xhr.abort() };
}
