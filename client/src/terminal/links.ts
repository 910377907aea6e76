/**
 * Links printed by the VM are untrusted: only web pages open, in a new tab that cannot reach back
 * into this one. javascript:, data:, file: and the rest are ignored. An OSC 8 hyperlink also hides
 * its target behind text the VM chose, so text that reads as one address while the link goes to
 * another is a lure: the page asks before opening it.
 */

/** What to do when a link is clicked; `target` is the normalised http(s) address that would open. */
export type LinkDecision =
  | { readonly kind: 'refuse' }
  | { readonly kind: 'open'; readonly target: string }
  | { readonly kind: 'confirm'; readonly target: string; readonly shown: string };

/** A host name of at least two labels ending in letters (`ci.example.com`), or an IPv4 literal. */
const HOST_LIKE = /^(?:(?:[\p{L}\p{N}_-]+\.)+\p{L}{2,}|\d{1,3}(?:\.\d{1,3}){3}|localhost)(?::\d{1,5})?(?:[/?#]\S*)?$/iu;
/** Dots the URL parser reads as '.' in a host name (ideographic, fullwidth and halfwidth full stops). */
const DOT_LIKE = /[\u3002\uFF0E\uFF61]/gu;
/** Characters that render as nothing: a lure can hide them inside a word to dodge the address check. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
/** Punctuation that wraps an address in prose: `<https://…>`, `(ci.example.com)`, `"…".` */
const WRAPPING = /^[\s"'`<([{]+|[\s"'`>)\]}.,;:!?]+$/gu;

export function safeWebUrl(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

/**
 * `shownText`: the link's visible text in the terminal. Text that is not an address ("build log",
 * "click here") opens directly; the hover preview already shows where it goes.
 */
export function decideLinkOpen(shownText: string, uri: string): LinkDecision {
  const target = safeWebUrl(uri);
  if (target === null) return { kind: 'refuse' };
  const targetUrl = new URL(target);
  for (const word of shownText.split(/\s+/u)) {
    // Read the word as the browser's URL parser would: `github．com` and `git\u200Bhub.com` are addresses too.
    const shown = word.normalize('NFKC').replace(INVISIBLE, '').replace(DOT_LIKE, '.').replace(WRAPPING, '');
    if (shown === '') continue;
    if (readsAsOtherAddress(shown, targetUrl)) return { kind: 'confirm', target, shown: shownText.trim() };
  }
  return { kind: 'open', target };
}

function readsAsOtherAddress(word: string, target: URL): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//iu.test(word)) {
    const url = parse(word);
    // Something with a scheme that does not even parse is not what the link opens either.
    return url === null || withoutHash(url) !== withoutHash(target);
  }
  if (!HOST_LIKE.test(word)) return false;
  const url = parse(`http://${word}`);
  if (url === null) return true;
  if (url.hostname !== target.hostname || (url.port !== '' && url.port !== target.port)) return true;
  // "ci.example.com" names the site only; "ci.example.com/builds/7" names the page too.
  const namesPage = url.pathname !== '/' || url.search !== '';
  return namesPage && url.pathname + url.search !== target.pathname + target.search;
}

function parse(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function withoutHash(url: URL): string {
  return url.href.slice(0, url.href.length - url.hash.length);
}

export function openWebLink(uri: string): void {
  const url = safeWebUrl(uri);
  if (url) window.open(url, '_blank', 'noopener,noreferrer');
}
