/**
 * The gateway's file endpoints for one build (docs/api.md). Paths travel in the query, encoded by
 * URLSearchParams: a name with `&`, `#`, `%`, spaces or newlines stays one value.
 */

function filesBase(buildId: string): string {
  return `/api/v1/builds/${encodeURIComponent(buildId)}/files`;
}

function withQuery(base: string, params: readonly (readonly [string, string])[]): string {
  const query = new URLSearchParams(params.map(([k, v]) => [k, v])).toString();
  return query === '' ? base : `${base}?${query}`;
}

/** `GET` a folder's listing; no path: the login user's home. */
export function listUrl(buildId: string, path: string | null, cursor: string | null = null): string {
  const params: [string, string][] = [];
  if (path !== null) params.push(['path', path]);
  if (cursor !== null) params.push(['cursor', cursor]);
  return withQuery(filesBase(buildId), params);
}

/** `GET` downloads the file; `PUT` uploads to it. */
export function contentUrl(buildId: string, path: string, overwrite = false): string {
  const params: [string, string][] = [['path', path]];
  if (overwrite) params.push(['overwrite', 'true']);
  return withQuery(`${filesBase(buildId)}/content`, params);
}

/** The embedded terminal's download form posts here (its credential in the body). */
export function downloadFormUrl(buildId: string): string {
  return `${filesBase(buildId)}/download`;
}

/** `GET` downloads the folder as a .tar.gz. */
export function archiveUrl(buildId: string, path: string): string {
  return withQuery(`${filesBase(buildId)}/archive`, [['path', path]]);
}
