/**
 * How an embed page becomes a session without a cookie: it takes the launch token out of its own
 * address (the fragment, which no server or Referer ever sees) before anything else runs,
 * exchanges it once for a credential, and keeps that credential in memory only, sending it as an
 * Authorization header to mint connection tickets and to read the access window.
 */
import {
  EMBED_LAUNCH_FRAGMENT_KEY,
  EMBED_PARENT_QUERY_KEY,
  type EmbedCredentialView,
  type EmbedExchangeRequest,
  type EmbedKind,
} from '../../../shared/src/embed.js';
import { errorOf, type TicketEndpoint } from './connection-ticket.js';
import { getJson } from './api.js';
import { parseWindowView, type WindowSource } from './window-poll.js';
import { ParentChannel, refusalCloseCode } from './embed-parent.js';

/**
 * No cookie is ever sent or needed; and `same-origin` keeps the Origin header on these POSTs,
 * which the page's own no-referrer policy would otherwise turn into `Origin: null`.
 */
const EMBED_FETCH: RequestInit = { credentials: 'omit', cache: 'no-store', referrerPolicy: 'same-origin' };

export interface EmbedStart {
  readonly session: EmbedCredentialView;
  readonly parent: ParentChannel;
  /** The launch URL's fragment without the token: what the dashboard set (unvalidated). */
  readonly options: URLSearchParams;
}

export interface EmbedRefusal {
  readonly code: string;
  readonly message: string;
}

/**
 * Removes the launch token from the address bar and history at once, whatever happens next: a
 * reload or a copied address must not carry it. Returns it, if there was one, and the rest of the
 * fragment: the settings a dashboard gave its element (`&theme=light`, docs/embedding.md), still
 * to be validated.
 */
export function takeLaunchFragment(): { readonly token: string | null; readonly options: URLSearchParams } {
  const options = new URLSearchParams(window.location.hash.slice(1));
  const token = options.get(EMBED_LAUNCH_FRAGMENT_KEY);
  options.delete(EMBED_LAUNCH_FRAGMENT_KEY);
  if (window.location.hash) history.replaceState(history.state, '', window.location.pathname + window.location.search);
  return { token, options };
}

/** The dashboard origin this page was served for; the gateway only serves it framed by that origin. */
export function pageParentOrigin(): string | null {
  return new URLSearchParams(window.location.search).get(EMBED_PARENT_QUERY_KEY);
}

export async function exchangeLaunch(request: EmbedExchangeRequest): Promise<{ ok: true; value: EmbedCredentialView } | { ok: false; error: EmbedRefusal }> {
  let res: Response;
  try {
    res = await fetch('/api/v1/embed/credentials', {
      ...EMBED_FETCH,
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request),
    });
  } catch {
    return { ok: false, error: { code: 'network', message: 'Could not reach the gateway. Check your network connection.' } };
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = errorOf(body);
    return { ok: false, error: error ?? { code: 'http_error', message: `The gateway refused this embedded session (${res.status}).` } };
  }
  const view = credentialOf(body, request.kind);
  return view ? { ok: true, value: view } : { ok: false, error: { code: 'bad_response', message: 'The gateway answered with something this page does not understand.' } };
}

export function embedTicketEndpoint(credential: string): TicketEndpoint {
  // The credential names the build, kind and view-only setting; a body only names a session to resume.
  return (request) => {
    const headers = { Authorization: `Bearer ${credential}`, Accept: 'application/json' };
    const init: RequestInit =
      request.sessionId === undefined ? { headers } : { headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ sessionId: request.sessionId }) };
    return fetch('/api/v1/embed/connections', { ...EMBED_FETCH, method: 'POST', ...init });
  };
}

export function embedWindowSource(credential: string): WindowSource {
  return () => getJson<unknown>('/api/v1/embed/window', { credentials: 'omit', headers: { Authorization: `Bearer ${credential}` } });
}

/**
 * Everything an embed page does before its terminal or screen exists. On a refusal it tells the
 * parent (`porthole:closed`) and returns the refusal for the page to show.
 */
export async function startEmbed(kind: EmbedKind): Promise<{ ok: true; value: EmbedStart } | { ok: false; error: EmbedRefusal }> {
  const { token: launch, options } = takeLaunchFragment();
  const parentOrigin = pageParentOrigin();
  if (parentOrigin === null) return { ok: false, error: { code: 'bad_request', message: 'This page was opened without the dashboard it belongs to.' } };
  const parent = new ParentChannel(parentOrigin);
  const refuse = (error: EmbedRefusal): { ok: false; error: EmbedRefusal } => {
    parent.post({ type: 'porthole:closed', code: refusalCloseCode(error.code), reason: error.message, error: error.code });
    return { ok: false, error };
  };
  if (launch === null) {
    return refuse({ code: 'invalid_ticket', message: 'This embedded session has no launch token: it was already used or the page was reloaded. Open it again from your dashboard.' });
  }
  const exchanged = await exchangeLaunch({ launch, kind, parentOrigin });
  if (!exchanged.ok) return refuse(exchanged.error);
  const session = exchanged.value;
  parent.post({ type: 'porthole:ready', kind: session.kind, buildId: session.buildId });
  return { ok: true, value: { session, parent, options } };
}

function credentialOf(body: unknown, kind: EmbedKind): EmbedCredentialView | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const windowView = parseWindowView(b['window']);
  if (
    typeof b['credential'] !== 'string' ||
    typeof b['expiresAt'] !== 'string' ||
    typeof b['buildId'] !== 'string' ||
    b['kind'] !== kind ||
    typeof b['parentOrigin'] !== 'string' ||
    typeof b['viewOnly'] !== 'boolean' ||
    (b['watchSessionId'] !== null && typeof b['watchSessionId'] !== 'string') ||
    windowView === null
  ) {
    return null;
  }
  return { ...(body as EmbedCredentialView), window: windowView };
}
