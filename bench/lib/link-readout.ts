/**
 * Reads the screen page's link readout ("12 fps · 340 KB/s · 35 ms", client/src/screen/link-stats.ts)
 * back into numbers: the bench's view of FramebufferUpdates/s and bytes/s as the page counted them.
 */

export interface ReadoutSample {
  readonly framesPerSecond: number;
  readonly bytesPerSecond: number;
  /** The page's /healthz round trip, null until it has one: on LAN, how late the page's own tasks run. */
  readonly roundTripMs: number | null;
}

const UNIT_BYTES: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 * 1024 };

/** null for a text that is not a readout (empty, or a newer format the bench does not know). */
export function parseReadout(text: string): ReadoutSample | null {
  const match = /^(\d+) fps · ([\d.]+) (B|KB|MB)\/s(?: · (\d+) ms)?$/.exec(text.trim());
  if (!match) return null;
  return { framesPerSecond: Number(match[1]), bytesPerSecond: Number(match[2]) * (UNIT_BYTES[match[3] ?? ''] ?? NaN), roundTripMs: match[4] === undefined ? null : Number(match[4]) };
}
