/**
 * Mints a single-use connection ticket for the terminal or the screen. The ticket rides in the
 * WebSocket subprotocol list, never in a URL or a log line: URLs end up in history, proxies' logs
 * and Referer headers.
 */
import type { ConnectionTicketView } from '../../../shared/src/api.js';
import type { ErrorBody } from '../../../shared/src/errors.js';
import { ApiError } from './api.js';
import { TICKET_SUBPROTOCOL_PREFIX, type ConnectionKind } from '../../../shared/src/protocol/kinds.js';

/** Ticket error codes after which asking again cannot succeed without someone changing something. */
export const FINAL_TICKET_ERRORS: ReadonlySet<string> = new Set(['role_forbidden', 'window_closed', 'not_found', 'forbidden_origin']);

/** Error codes a ticket request can fail with that did not come from the gateway. */
export const NETWORK_ERROR_CODE = 'network';
const BAD_RESPONSE_CODE = 'bad_response';

export interface TicketRequest {
  readonly kind: ConnectionKind;
  /** Has the gateway drop all input, whatever the page does. */
  readonly viewOnly?: boolean;
  /** Takes up this held session again instead of starting a new one (a terminal's `ready` named it). */
  readonly sessionId?: string;
  /** With sessionId: watch that session, another member's (docs/protocol.md, section 4b). */
  readonly mode?: 'watch';
}

interface ConnectionTicket {
  readonly ticket: string;
  /** Absolute ws:/wss: URL, resolved against the page. */
  readonly url: string;
  /** The data subprotocol to offer beside the ticket. */
  readonly protocol: string;
}

/**
 * Asks the gateway for a ticket. The signed-in pages ask with their session cookie; embed pages,
 * which have no cookie, with the credential their launch gave them (lib/embed-session.ts).
 */
export type TicketEndpoint = (request: TicketRequest) => Promise<Response>;

/** The signed-in user's pages: the session cookie says who asks. */
export function sessionTicketEndpoint(buildId: string): TicketEndpoint {
  return (request) =>
    fetch(`/api/v1/builds/${encodeURIComponent(buildId)}/connections`, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request),
    });
}

async function requestTicket(endpoint: TicketEndpoint, request: TicketRequest): Promise<ConnectionTicket> {
  let res: Response;
  try {
    res = await endpoint(request);
  } catch {
    throw new ApiError(0, NETWORK_ERROR_CODE, 'Could not reach the gateway. Check your network connection.');
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = errorOf(body);
    throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? `The gateway refused the connection (${res.status}).`);
  }
  const ticket = ticketOf(body);
  if (!ticket) throw new ApiError(res.status, BAD_RESPONSE_CODE, 'The gateway answered with something that is not a connection ticket.');
  return ticket;
}

export function errorOf(body: unknown): { code: string; message: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const error = (body as Partial<Record<keyof ErrorBody, unknown>>).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : null;
}

function ticketOf(body: unknown): ConnectionTicket | null {
  if (typeof body !== 'object' || body === null) return null;
  const { ticket, url, protocol } = body as Partial<Record<keyof ConnectionTicketView, unknown>>;
  if (typeof ticket !== 'string' || typeof url !== 'string' || typeof protocol !== 'string') return null;
  const wsUrl = toWebSocketUrl(url);
  return wsUrl ? { ticket, url: wsUrl, protocol } : null;
}

/** Accepts a relative or http(s) URL too, so the gateway may answer with a path behind a proxy. */
function toWebSocketUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw, window.location.href);
  } catch {
    return null;
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return null;
  return url.href;
}

/** Why a connection could not even start; `final` means asking again cannot help. */
export interface ConnectionRefusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly final: boolean;
}

/**
 * Mints a ticket and opens the WebSocket it is for: the data subprotocol beside the ticket, which
 * travels only in Sec-WebSocket-Protocol. `noun` names the connection in messages ("terminal").
 */
export async function openTicketedSocket(
  endpoint: TicketEndpoint,
  request: TicketRequest,
  expectedProtocol: string,
  noun: string,
): Promise<{ readonly ok: true; readonly ws: WebSocket } | { readonly ok: false; readonly refusal: ConnectionRefusal }> {
  let ticket: ConnectionTicket;
  try {
    ticket = await requestTicket(endpoint, request);
  } catch (error) {
    const apiError = error instanceof ApiError ? error : new ApiError(0, 'internal', `Could not start the ${noun} connection.`);
    return { ok: false, refusal: { status: apiError.status, code: apiError.code, message: apiError.message, final: FINAL_TICKET_ERRORS.has(apiError.code) } };
  }
  if (ticket.protocol !== expectedProtocol) {
    const message = `The gateway offered protocol "${ticket.protocol}", which this page does not speak. Reload the page.`;
    return { ok: false, refusal: { status: 0, code: 'unsupported_protocol', message, final: false } };
  }
  try {
    const ws = new WebSocket(ticket.url, [expectedProtocol, TICKET_SUBPROTOCOL_PREFIX + ticket.ticket]);
    ws.binaryType = 'arraybuffer';
    return { ok: true, ws };
  } catch {
    // The browser's message may quote the subprotocols, which hold the ticket; it is not shown.
    return { ok: false, refusal: { status: 0, code: 'bad_url', message: `The browser could not open the ${noun} connection the gateway offered.`, final: false } };
  }
}
