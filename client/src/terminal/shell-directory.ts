/**
 * The shell's current folder as it reports it with OSC 7 (`ESC ] 7 ; file://host/path ST`, which
 * VTE's and many shells' prompts send). The host is the VM's own name for itself and is ignored:
 * the path is one on the build's VM, whatever the shell calls it.
 */
const SCHEME = 'file://';

export function shellDirectoryOf(data: string): string | null {
  if (!data.startsWith(SCHEME)) return null;
  const rest = data.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  let path: string;
  try {
    path = decodeURIComponent(rest.slice(slash));
  } catch {
    return null;
  }
  return path.startsWith('/') && !path.includes('\0') ? path : null;
}
