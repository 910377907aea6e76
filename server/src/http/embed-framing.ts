/**
 * Which origin may frame a response. Only the embed pages may be framed, only by the parent origin
 * their launch URL names, and only when that origin is in PORTHOLE_EMBED_ORIGINS; every other
 * response is framed by nobody. The embed page then only accepts a launch bound to that same
 * parent (routes/embed.ts), so the page's frame-ancestors is always the launch's parent origin.
 */
import type { Request } from 'express';
import { EMBED_PAGE_PATHS, EMBED_PARENT_QUERY_KEY, type EmbedKind } from '../../../shared/src/embed.js';

const KIND_BY_PAGE_PATH: ReadonlyMap<string, EmbedKind> = new Map(
  (Object.entries(EMBED_PAGE_PATHS) as [EmbedKind, string][]).map(([kind, path]) => [path, kind]),
);

export function embedPageKind(path: string): EmbedKind | null {
  return KIND_BY_PAGE_PATH.get(path) ?? null;
}

/** The allowed parent origin of an embed page request, or null: not an embed page, or not allowed. */
export function embedParentOf(req: Request, embedOrigins: ReadonlySet<string>): string | null {
  if (req.method !== 'GET' && req.method !== 'HEAD') return null;
  if (embedPageKind(req.path) === null) return null;
  const parent = req.query[EMBED_PARENT_QUERY_KEY];
  return typeof parent === 'string' && embedOrigins.has(parent) ? parent : null;
}
