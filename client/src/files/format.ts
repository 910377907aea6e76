/** Sizes, times and progress as the Files panel shows them. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `512 B`, `1.5 KiB`, `50 MiB`: one decimal below 10, whole numbers above. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  let text = value < 10 ? value.toFixed(1) : String(Math.round(value));
  // 1023.7 KiB rounds to "1024 KiB": say the next unit instead.
  if (text === '1024' && unit < UNITS.length - 1) {
    unit++;
    text = '1.0';
  }
  return `${text} ${UNITS[unit]}`;
}

/** Whole percent, never 100 before the last byte. */
export function percentOf(loaded: number, total: number): number {
  if (total <= 0) return loaded >= total ? 100 : 0;
  if (loaded >= total) return 100;
  return Math.max(0, Math.min(99, Math.floor((loaded * 100) / total)));
}

/** `1.2 MiB of 50 MiB (2%)` */
export function formatProgress(loaded: number, total: number): string {
  return `${formatBytes(loaded)} of ${formatBytes(total)} (${percentOf(loaded, total)}%)`;
}

/**
 * The listing's `modifiedAt` as epoch milliseconds: an ISO 8601 string, or a number of seconds
 * (SFTP's mtime) or milliseconds. Anything else is unknown (null).
 */
export function parseModified(value: unknown): number | null {
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    // 1e11 seconds is the year 5138; 1e11 milliseconds is 1973.
    return value < 1e11 ? value * 1000 : value;
  }
  return null;
}

const MODIFIED_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatModified(ms: number | null, format: Intl.DateTimeFormat = MODIFIED_FORMAT): string {
  return ms === null ? '—' : format.format(ms);
}
