/**
 * The screen's link readout (issue #19): frames per second and bytes per second the page
 * received, and the round trip to the gateway, so a slow link can be told from a stuck VM (a slow
 * link: few bytes and a long round trip; a stuck VM: a short round trip and no frames).
 */

export interface LinkSample {
  readonly framesPerSecond: number;
  readonly bytesPerSecond: number;
}

/** Counts frames and bytes; each sample covers the time since the one before. */
export class LinkMeter {
  #frames = 0;
  #bytes = 0;
  #since: number;

  constructor(nowMs: number) {
    this.#since = nowMs;
  }

  frame(): void {
    this.#frames += 1;
  }

  received(bytes: number): void {
    this.#bytes += bytes;
  }

  sample(nowMs: number): LinkSample {
    const seconds = (nowMs - this.#since) / 1000;
    const sample = seconds > 0 ? { framesPerSecond: this.#frames / seconds, bytesPerSecond: this.#bytes / seconds } : { framesPerSecond: 0, bytesPerSecond: 0 };
    this.#frames = 0;
    this.#bytes = 0;
    this.#since = nowMs;
    return sample;
  }
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** "12 fps · 340 KB/s · 35 ms"; the round trip is left out until one has been measured. */
export function describeLink(sample: LinkSample, roundTripMs: number | null): string {
  const parts = [`${Math.round(sample.framesPerSecond)} fps`, describeRate(sample.bytesPerSecond)];
  if (roundTripMs !== null) parts.push(`${Math.round(roundTripMs)} ms`);
  return parts.join(' · ');
}

function describeRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= MIB) return `${(bytesPerSecond / MIB).toFixed(1)} MB/s`;
  if (bytesPerSecond >= KIB) return `${Math.round(bytesPerSecond / KIB)} KB/s`;
  return `${Math.round(bytesPerSecond)} B/s`;
}
