/**
 * Lets libraries that inject `<style>` elements (xterm.js does) work under a nonce-based
 * `style-src` policy without loosening it to 'unsafe-inline'.
 */

/** Guards against double patching, which would stack wrappers on every call. */
const stamped = new WeakSet<Document>();

/**
 * Stamps the page's CSP nonce on every `<style>` element this document creates from now on.
 * Call before any library creates its styles: the nonce must be present when the element is
 * inserted, which is when the browser checks it.
 */
export function stampStyleNonces(): void {
  const nonce = pageNonce();
  if (!nonce || stamped.has(document)) return;
  stamped.add(document);
  const create = document.createElement.bind(document);
  // Patched on this document only: other documents (iframes, DOMParser output) keep the native
  // method and never get the nonce.
  const createStamped = (tagName: string, options?: ElementCreationOptions): HTMLElement => {
    const el = create(tagName, options);
    if (el instanceof HTMLStyleElement) el.setAttribute('nonce', nonce);
    else routeStyleAttributeThroughCssom(el);
    return el;
  };
  document.createElement = createStamped;
}

/**
 * xterm.js's DOM renderer (used when WebGL is unavailable) writes 24-bit colours with
 * `setAttribute('style', …)`, which `style-src` blocks; the same declarations set through the
 * CSSOM (`el.style.cssText`) are allowed and render identically.
 */
function routeStyleAttributeThroughCssom(el: HTMLElement): void {
  const setAttribute = el.setAttribute.bind(el);
  el.setAttribute = (name: string, value: string): void => {
    if (name.toLowerCase() === 'style') el.style.cssText = value;
    else setAttribute(name, value);
  };
}

/**
 * Browsers blank the `nonce` attribute once the element is parsed (so CSS attribute selectors
 * cannot leak it) but keep the value in the IDL property.
 */
function pageNonce(): string {
  for (const script of document.querySelectorAll<HTMLScriptElement>('script[nonce]')) {
    if (script.nonce) return script.nonce;
  }
  return '';
}
