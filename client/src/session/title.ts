/**
 * The tab title shows what the VM says, beside the build it belongs to: what its shell is doing
 * (OSC 0/2) on the terminal, its desktop name on the screen. The VM's text is untrusted: it is
 * cleaned and capped before it reaches the page.
 */

/** Long enough for "user@host: ~/some/dir", short enough to leave room for the build label. */
const VM_TITLE_MAX_CHARS = 80;
/** Control characters, plus bidi overrides that could make the title read as something else. */
const UNSAFE_TITLE_CHARS = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function cleanVmTitle(raw: string): string {
  const chars = Array.from(raw.replace(UNSAFE_TITLE_CHARS, '').replace(/\s+/g, ' ').trim());
  return chars.length > VM_TITLE_MAX_CHARS ? `${chars.slice(0, VM_TITLE_MAX_CHARS - 1).join('')}…` : chars.join('');
}

/** Null when the VM's title is empty (or was nothing but junk): the page's own title applies. */
export function pageTitle(vmTitle: string, buildLabel: string): string | null {
  const title = cleanVmTitle(vmTitle);
  return title ? `${title} — ${buildLabel} · Porthole` : null;
}
