/**
 * Where to go after signing in. Only same-site paths: "//evil.example" and "/\evil.example" are
 * protocol-relative in browsers and would make the login an open redirect.
 */
export function safeNextPath(candidate: unknown): string {
  if (typeof candidate !== 'string' || !candidate.startsWith('/')) return '/';
  if (candidate.startsWith('//') || candidate.startsWith('/\\') || /\p{Cc}/u.test(candidate)) return '/';
  return candidate;
}
