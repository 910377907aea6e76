/**
 * Stable error codes. Every refusal the gateway gives carries exactly one of these; the server
 * maps each once to an HTTP status (and, for WebSockets, a close code). Clients branch on the code,
 * never on the message.
 */
export const ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'invalid_field',
  'unauthenticated',
  'invalid_ticket',
  'invalid_credentials',
  'forbidden_origin',
  'role_forbidden',
  'not_found',
  'session_not_found',
  'not_session_owner',
  'session_on_other_node',
  'conflict',
  'window_closed',
  // Extend (issue #20, docs/api.md "Extend and release"): why a window could not be extended.
  'extension_not_available',
  'extension_too_early',
  'extension_limit_reached',
  'credentials_hidden',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'too_many_connections',
  // Window events (issue #20, docs/api.md "Window events"): a user's open streams are capped.
  'too_many_window_streams',
  // Files (issue #17, docs/api.md "Files").
  'file_transfer_disabled',
  'file_not_found',
  'file_permission_denied',
  'file_exists',
  'not_a_file',
  'not_a_folder',
  'range_not_satisfiable',
  'too_many_transfers',
  // The VM, as the gateway met it (terminal `error` frames before 4004, file transfers' 502s):
  // each says something different about what the user can do next.
  'vm_unreachable',
  'vm_login_refused',
  'vm_host_key_changed',
  'vm_shell_refused',
  'file_transfer_failed',
  'control_api_disabled',
  'store_unavailable',
  'metrics_disabled',
  'draining',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string };
}
