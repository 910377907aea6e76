/** The server renders the page's elements; a missing or mistyped one is a bug worth failing loudly on. */
export function requireElement<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`The terminal page is missing #${id}.`);
  return el;
}
