/**
 * Identifiers chosen by the CI orchestrator. Branded so a build id can never be passed where a
 * user id is expected; only `parseId` makes one, after checking the wire format.
 */
import { err, ok, type Result } from './result.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type UserId = Brand<string, 'UserId'>;
export type AppId = Brand<string, 'AppId'>;
export type BuildId = Brand<string, 'BuildId'>;
/** Chosen by the gateway (random hex), never by a browser or the orchestrator. */
export type RecordingId = Brand<string, 'RecordingId'>;

/**
 * 1–64 characters of [A-Za-z0-9._-], not all dots: safe in URL paths, logs and HTML attributes
 * unescaped. "." and ".." (and "%2E%2E") are dot-segments that browsers and proxies fold into the
 * parent path, so a build of that name would get page links to another page.
 */
export const ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;
/** Said wherever an id is refused, so the orchestrator's error names the whole rule. */
export const ID_RULE = 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-", and not only dots';

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export function parseId<T extends UserId | AppId | BuildId>(value: unknown): Result<T, string> {
  if (typeof value !== 'string' || !isValidId(value)) {
    return err(ID_RULE);
  }
  return ok(value as T);
}
