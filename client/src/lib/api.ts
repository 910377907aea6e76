/** Same-origin JSON calls with the gateway's error shape turned into a readable message. */
import type { ErrorBody } from '../../../shared/src/errors.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Signed-in pages send their session cookie; embed pages send none and authorise by header instead. */
export interface GetJsonOptions {
  readonly credentials?: RequestCredentials;
  readonly headers?: Readonly<Record<string, string>>;
}

export async function getJson<T>(path: string, options: GetJsonOptions = {}): Promise<T> {
  const res = await fetch(path, {
    credentials: options.credentials ?? 'same-origin',
    headers: { ...options.headers, Accept: 'application/json' },
    cache: 'no-store',
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as ErrorBody | null;
    throw new ApiError(res.status, body?.error.code ?? 'http_error', body?.error.message ?? `Request failed (${res.status}).`);
  }
  return (await res.json()) as T;
}

/** A same-origin PUT or DELETE; the browser sends its Origin, which the gateway's CSRF guard checks. */
export async function sendJson(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: body === undefined ? { Accept: 'application/json' } : { 'Content-Type': 'application/json', Accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) {
    const error = (await res.json().catch(() => null)) as ErrorBody | null;
    throw new ApiError(res.status, error?.error.code ?? 'http_error', error?.error.message ?? `Request failed (${res.status}).`);
  }
}

/** A same-origin POST answering JSON (extend, release); the browser's Origin passes the CSRF guard. */
export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const error = (await res.json().catch(() => null)) as ErrorBody | null;
    throw new ApiError(res.status, error?.error.code ?? 'http_error', error?.error.message ?? `Request failed (${res.status}).`);
  }
  return (await res.json()) as T;
}
