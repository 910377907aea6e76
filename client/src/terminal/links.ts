/**
 * Links printed by the VM are untrusted: only web pages open, in a new tab that cannot reach back
 * into this one. javascript:, data:, file: and the rest are ignored.
 */
export function openWebLink(uri: string): void {
  const url = safeWebUrl(uri);
  if (url) window.open(url, '_blank', 'noopener,noreferrer');
}

export function safeWebUrl(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}
