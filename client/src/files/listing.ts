/**
 * A folder's listing as the gateway sends it (`GET /api/v1/builds/{id}/files`), checked rather than
 * trusted, and its sorting and filtering. Pure: no DOM, no network.
 */
import { displayName } from './display-name.js';
import { parseModified } from './format.js';

export const ENTRY_TYPES = ['file', 'dir', 'symlink', 'other'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export interface FileEntry {
  readonly name: string;
  readonly type: EntryType;
  /** Bytes; null when the VM did not say. */
  readonly size: number | null;
  /** Epoch milliseconds; null when unknown. */
  readonly modifiedAt: number | null;
  /** The POSIX mode bits as sent (a number, or the string the server chose); shown as a hint only. */
  readonly mode: number | string | null;
}

export interface FileListing {
  /** The folder's absolute path on the VM, as the gateway resolved it. */
  readonly path: string;
  readonly entries: readonly FileEntry[];
  /** Names the next page of this folder; null when this was the last. */
  readonly nextCursor: string | null;
}

export type SortKey = 'name' | 'size' | 'modified';
export interface SortOrder {
  readonly key: SortKey;
  readonly descending: boolean;
}
export const DEFAULT_SORT: SortOrder = { key: 'name', descending: false };

function entryOf(value: unknown): FileEntry | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const name = v['name'];
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/')) return null;
  const type = (ENTRY_TYPES as readonly unknown[]).includes(v['type']) ? (v['type'] as EntryType) : 'other';
  const size = typeof v['size'] === 'number' && Number.isFinite(v['size']) && v['size'] >= 0 ? v['size'] : null;
  const mode = typeof v['mode'] === 'number' || typeof v['mode'] === 'string' ? v['mode'] : null;
  return { name, type, size, modifiedAt: parseModified(v['modifiedAt']), mode };
}

/** A listing, or null if the answer is not one. Malformed entries are left out, not fatal. */
export function parseListing(body: unknown): FileListing | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const path = b['path'];
  const entries = b['entries'];
  const cursor = b['nextCursor'];
  if (typeof path !== 'string' || !path.startsWith('/') || !Array.isArray(entries)) return null;
  if (cursor !== undefined && cursor !== null && typeof cursor !== 'string') return null;
  const parsed: FileEntry[] = [];
  for (const entry of entries as unknown[]) {
    const ok = entryOf(entry);
    if (ok) parsed.push(ok);
  }
  return { path, entries: parsed, nextCursor: typeof cursor === 'string' && cursor !== '' ? cursor : null };
}

/** Folders first, whatever the order; then by the chosen column; ties by name. */
function group(entry: FileEntry): number {
  return entry.type === 'dir' ? 0 : 1;
}

const COLLATOR = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareNames(a: FileEntry, b: FileEntry): number {
  // Names equal to the collator ("A" and "a") still get a fixed order.
  return COLLATOR.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function compareBy(key: SortKey, a: FileEntry, b: FileEntry): number {
  switch (key) {
    case 'name':
      return compareNames(a, b);
    case 'size':
      return (a.size ?? -1) - (b.size ?? -1);
    case 'modified':
      return (a.modifiedAt ?? -Infinity) === (b.modifiedAt ?? -Infinity) ? 0 : (a.modifiedAt ?? -Infinity) < (b.modifiedAt ?? -Infinity) ? -1 : 1;
  }
}

export function sortEntries(entries: readonly FileEntry[], order: SortOrder): FileEntry[] {
  const direction = order.descending ? -1 : 1;
  return [...entries].sort((a, b) => group(a) - group(b) || direction * compareBy(order.key, a, b) || compareNames(a, b));
}

/** Clicking a column: the same one flips; another starts ascending by name, newest or largest first otherwise. */
export function nextSort(current: SortOrder, key: SortKey): SortOrder {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key !== 'name' };
}

/** Case-insensitive substring of the name, as the VM spells it or as the panel shows it (`\n`). */
export function filterEntries(entries: readonly FileEntry[], query: string): readonly FileEntry[] {
  const q = query.trim().toLocaleLowerCase();
  if (q === '') return entries;
  return entries.filter((e) => e.name.toLocaleLowerCase().includes(q) || displayName(e.name).toLocaleLowerCase().includes(q));
}
