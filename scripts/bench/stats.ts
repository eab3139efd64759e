/**
 * Small, pure statistics for benchmark figures: percentiles over latency
 * samples and the least-squares slope used to spot an upward RSS trend.
 */

/** p50/p90/p99/max of a set of samples, in the samples' unit. */
export interface Distribution {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/**
 * The value below which `p` (0..1) of the sorted samples fall, using the
 * nearest-rank method: p99 of 100 samples is the 99th, never interpolated,
 * so a reported latency is one that really happened.
 */
export function percentile(
  sorted: ArrayLike<number>,
  p: number,
): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Sorts a copy of the samples and summarises them. */
export function distribution(samples: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 0.5), 2),
    p90: round(percentile(sorted, 0.9), 2),
    p99: round(percentile(sorted, 0.99), 2),
    max: round(sorted.length ? sorted[sorted.length - 1] : null, 2),
    mean: round(sorted.length ? sum / sorted.length : null, 2),
  };
}

/**
 * Least-squares slope of y over x (units of y per unit of x), or null with
 * fewer than two distinct x values.
 */
export function slope(
  points: readonly { x: number; y: number }[],
): number | null {
  const n = points.length;
  if (n < 2) return null;
  let sx = 0, sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n, my = sy / n;
  let num = 0, den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** Rounds to `digits` decimals, keeping null. */
export function round(x: number | null, digits = 1): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
