import type { PageAssets } from '../assets.js';
import { html, type Html } from './html.js';

export interface SignedInUser {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
}

export interface LayoutOptions {
  readonly title: string;
  readonly assets: PageAssets;
  readonly user: SignedInUser | null;
  readonly body: Html;
}

/**
 * `<head>` of every page. The nonce lets page scripts create <style> elements (xterm.js does).
 * `settingsScope` (the signed-in user's id) keeps choices remembered in the browser per user
 * (client/src/lib/storage.ts): two people sharing a browser do not share a font size.
 */
export function documentHead(title: string, assets: PageAssets, nonce: string | null, settingsScope: string | null = null): Html {
  return html`<head>
<meta charset="utf-8">
${settingsScope !== null ? html`<meta name="porthole-settings-scope" content="${settingsScope}">
` : ''}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>${title} · Porthole</title>
${assets.styles.map((href) => html`<link rel="stylesheet" href="${href}">\n`)}${assets.scripts.map((src) => (nonce ? html`<script type="module" nonce="${nonce}" src="${src}"></script>\n` : html`<script type="module" src="${src}"></script>\n`))}</head>`;
}

export function layout({ title, assets, user, body }: LayoutOptions): Html {
  return html`<!doctype html>
<html lang="en">
${documentHead(title, assets, null, user?.id ?? null)}
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>Porthole</a>
  ${user
    ? html`<nav class="topbar-user" aria-label="Account">
    <span class="topbar-email">${user.name ?? user.email}</span>
    <form method="post" action="/auth/logout"><button class="button button-quiet" type="submit">Sign out</button></form>
  </nav>`
    : ''}
</header>
<main id="main" class="page">
${body}
</main>
</body>
</html>`;
}

/** `<time>` with an ISO attribute the browser script localises, and a UTC text fallback. */
export function timeElement(date: Date): Html {
  const iso = date.toISOString();
  return html`<time datetime="${iso}" data-local-time>${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}
