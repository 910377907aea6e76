/**
 * Names and messages from the VM, made fit to show on one line: control characters (newlines,
 * escapes, C1), line separators and bidirectional overrides, which could hide or disguise what a
 * name is, are shown as visible escapes (`\n`, `\x1B`, `\u202E`); a lone surrogate becomes U+FFFD.
 * The result is still text: it goes into textContent, never into markup.
 */

const NAMED: Readonly<Record<number, string>> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };

function isHidden(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

function escapeOf(code: number): string {
  const named = NAMED[code];
  if (named !== undefined) return named;
  const hex = code.toString(16).toUpperCase();
  return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
}

export function displayName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += name[i]! + name[i + 1]!;
        i++;
      } else {
        out += '\uFFFD';
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      out += '\uFFFD';
    } else if (isHidden(code)) {
      out += escapeOf(code);
    } else {
      out += name[i]!;
    }
  }
  return out;
}

/** Whether displayName changed anything: the row says so, since `\n` may also be a literal backslash and n. */
export function hasHiddenCharacters(name: string): boolean {
  return displayName(name) !== name;
}
