/**
 * Paths on the build's VM as the Files panel handles them: absolute POSIX paths, which the gateway
 * resolves on the VM. Nothing here reaches the local file system or names a host.
 */

/** Where the typed path leads: an absolute path, or the login user's home (`null`: no `path` sent). */
export type ResolvedPath = { readonly ok: true; readonly path: string | null } | { readonly ok: false; readonly message: string };

export interface Crumb {
  /** The segment as the VM spells it (shown through displayName, never as markup). */
  readonly label: string;
  readonly path: string;
}

/** `dir` is absolute; `name` is one entry of it (POSIX names never hold '/'). */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The folder holding `path`; null for the root. */
export function parentPath(path: string): string | null {
  const normal = normalizePath(path);
  if (normal === '/') return null;
  const cut = normal.lastIndexOf('/');
  return cut <= 0 ? '/' : normal.slice(0, cut);
}

/** The last segment: the name a file or folder has in its parent ('/' for the root). */
export function baseName(path: string): string {
  const normal = normalizePath(path);
  return normal === '/' ? '/' : normal.slice(normal.lastIndexOf('/') + 1);
}

/** `/a//b/./c/../d/` → `/a/b/d`; `..` above the root stays at the root, as on the VM. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`;
}

/** The root first, then every folder down to `path` itself. */
export function breadcrumbs(path: string): Crumb[] {
  const crumbs: Crumb[] = [{ label: '/', path: '/' }];
  let sofar = '';
  for (const segment of normalizePath(path).split('/')) {
    if (segment === '') continue;
    sofar += `/${segment}`;
    crumbs.push({ label: segment, path: sofar });
  }
  return crumbs;
}

/**
 * What the path box means: absolute as typed, `~` and `~/…` under the home folder, anything else
 * under the folder shown. Empty is the home folder.
 */
export function resolvePath(input: string, current: string | null, home: string | null): ResolvedPath {
  const typed = input.trim();
  if (typed.includes('\0')) return { ok: false, message: 'A path cannot contain a NUL character.' };
  if (typed === '' || typed === '~' || typed === '~/') return { ok: true, path: home };
  if (typed.startsWith('/')) return { ok: true, path: normalizePath(typed) };
  if (typed.startsWith('~/')) {
    if (home === null) return { ok: false, message: 'The home folder is not known yet: open it first, or type a path starting with /.' };
    return { ok: true, path: normalizePath(joinPath(home, typed.slice(2))) };
  }
  // `~user` is the shell's, not a path the VM's SFTP server reads.
  if (typed.startsWith('~')) return { ok: false, message: 'Only ~ and ~/… are understood: type a path starting with /.' };
  const base = current ?? home;
  if (base === null) return { ok: false, message: 'Type a path starting with /.' };
  return { ok: true, path: normalizePath(joinPath(base, typed)) };
}

/** A local file's name as the name of the file on the VM, or why it cannot be one. */
export function checkUploadName(name: string): { readonly ok: true } | { readonly ok: false; readonly message: string } {
  if (name === '' || name === '.' || name === '..') return { ok: false, message: 'This file has no name the VM can use.' };
  if (name.includes('/') || name.includes('\0')) return { ok: false, message: 'A file name on the VM cannot contain "/" or NUL.' };
  return { ok: true };
}
