/** Summaries the bench reports: medians with their spread, percentiles, and a least-squares line. */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  return { median: percentile(finite, 50, 'interpolate'), min: Math.min(...finite), max: Math.max(...finite), n: finite.length };
}

/**
 * Nearest-rank percentile by default (p99 of 1,000 samples is the 10th worst, an observed value);
 * 'interpolate' for medians of a few runs, where the middle of two values is the honest answer.
 */
export function percentile(values: readonly number[], p: number, method: 'rank' | 'interpolate' = 'rank'): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  if (method === 'interpolate') {
    const at = (p / 100) * (sorted.length - 1);
    const low = sorted[Math.floor(at)] ?? NaN;
    const high = sorted[Math.ceil(at)] ?? NaN;
    return low + (high - low) * (at - Math.floor(at));
  }
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? NaN;
}

export interface LinearFit {
  readonly slope: number;
  readonly intercept: number;
  /** Coefficient of determination: how straight the line really is. */
  readonly r2: number;
}

export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  const n = Math.min(xs.length, ys.length);
  const mean = (v: readonly number[]): number => v.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    const dy = (ys[i] ?? 0) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: sxx === 0 || syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Rotates the legs so each run starts with a different one: noise that drifts hits all alike. */
export function alternate<T>(legs: readonly T[], run: number): T[] {
  const k = run % Math.max(1, legs.length);
  return [...legs.slice(k), ...legs.slice(0, k)];
}
