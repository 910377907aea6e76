/**
 * One error type for every refusal the gateway gives. The code is stable and mapped to an HTTP
 * status exactly once, here; routes throw or return a GatewayError and never pick statuses.
 */
import type { ErrorBody, ErrorCode } from '../../shared/src/errors.js';

export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  bad_request: 400,
  invalid_json: 400,
  invalid_field: 400,
  unauthenticated: 401,
  invalid_ticket: 401,
  invalid_credentials: 401,
  forbidden_origin: 403,
  role_forbidden: 403,
  credentials_hidden: 403,
  not_session_owner: 403,
  not_found: 404,
  session_not_found: 404,
  conflict: 409,
  session_on_other_node: 409,
  window_closed: 410,
  extension_not_available: 409,
  extension_too_early: 409,
  extension_limit_reached: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_connections: 429,
  too_many_window_streams: 429,
  file_transfer_disabled: 403,
  file_permission_denied: 403,
  file_not_found: 404,
  file_exists: 409,
  not_a_file: 400,
  not_a_folder: 400,
  range_not_satisfiable: 416,
  too_many_transfers: 429,
  vm_unreachable: 502,
  vm_login_refused: 502,
  vm_host_key_changed: 502,
  vm_shell_refused: 502,
  file_transfer_failed: 502,
  internal: 500,
  control_api_disabled: 503,
  store_unavailable: 503,
  metrics_disabled: 503,
  draining: 503,
});

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Said while the database is out of reach: nothing the request asked for was stored. */
export function storeUnavailableError(): GatewayError {
  return new GatewayError('store_unavailable', 'The gateway cannot reach its database right now; nothing was changed. Try again in a moment.');
}
