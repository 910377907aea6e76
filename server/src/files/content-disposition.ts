/**
 * The `Content-Disposition` of a download whose name comes from the VM: hostile by assumption
 * (issue #17). A name with a newline must not split the header, a quote must not end the
 * parameter, and HTML or control characters must not reach the browser's file name as such.
 * The ASCII `filename` is a fallback for old clients; `filename*` (RFC 6266, RFC 8187) carries
 * the real name, percent-encoded as UTF-8.
 */

/** What a name that sanitizes to nothing is saved as. */
export const FALLBACK_FILE_NAME = 'download';
/** Browsers cut file names near 255 bytes anyway; a longer header only costs. */
export const MAX_FILE_NAME_CHARS = 200;

/** The last segment of a VM path, as the browser should name the saved file. */
export function baseNameOf(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash === -1 ? trimmed : trimmed.slice(slash + 1);
}

/**
 * The name made safe to show and save: control characters (C0, DEL, C1), path separators and
 * lone surrogates become "_"; leading dots are dropped so a download never becomes a hidden file.
 */
export function safeFileName(name: string): string {
  const cleaned = name
    // A lone surrogate cannot be encoded as UTF-8 (encodeURIComponent would throw).
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f/\\]/g, '_')
    .replace(/^\.+/, '');
  const cut = [...cleaned].slice(0, MAX_FILE_NAME_CHARS).join('');
  return cut.length === 0 ? FALLBACK_FILE_NAME : cut;
}

/** RFC 8187 attr-chars are sent as is; everything else percent-encoded from UTF-8. */
function encodeExtValue(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `attachment; filename="ascii"; filename*=UTF-8''…` for a file (or archive) named `name`. */
export function attachmentDisposition(name: string): string {
  const safe = safeFileName(name);
  // Printable ASCII only, without the quoted-string's own specials and without "%", which some
  // browsers decode in the plain parameter.
  const ascii = safe.replace(/[^\u0020-\u007e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(safe)}`;
}
