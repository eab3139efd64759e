/**
 * A least-squares line through capacity readings, and when it reaches 100 %.
 * Pure, so pool_full_forecast can be tested on made-up histories whose
 * answers are known.
 */

export interface Point {
  /** unix ms */
  t: number;
  /** capacity, percent */
  v: number;
}

export interface Fit {
  /** percent per day */
  slopePerDay: number;
  /** the line's value at `atMs` */
  valueAt: number;
}

const DAY_MS = 86_400_000;

/** The least-squares line through the points, or null for fewer than two distinct times. */
export function linearFit(points: readonly Point[], atMs: number): Fit | null {
  const n = points.length;
  if (n < 2) return null;
  // Centre the times: unix ms squared loses precision in doubles.
  const t0 = points[0].t;
  let sx = 0, sy = 0;
  for (const p of points) {
    sx += (p.t - t0) / DAY_MS;
    sy += p.v;
  }
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0;
  for (const p of points) {
    const dx = (p.t - t0) / DAY_MS - mx;
    sxx += dx * dx;
    sxy += dx * (p.v - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return {
    slopePerDay: slope,
    valueAt: my + slope * ((atMs - t0) / DAY_MS - mx),
  };
}

/**
 * Days from `atMs` until the fitted line reaches `fullPercent`: Infinity
 * when capacity is flat or falling, 0 when the line is there already.
 */
export function daysUntilFull(
  points: readonly Point[],
  atMs: number,
  fullPercent = 100,
): number | null {
  const fit = linearFit(points, atMs);
  if (fit === null) return null;
  if (fit.slopePerDay <= 0) return Infinity;
  return Math.max(0, (fullPercent - fit.valueAt) / fit.slopePerDay);
}

/**
 * Adds a reading to a window kept in time order: at most one point per
 * `stepMs` (so a 7-day window stays small at any sample rate) and none
 * older than `windowMs`. Returns the same array, changed.
 */
export function addPoint(
  window: Point[],
  p: Point,
  windowMs: number,
  stepMs: number,
): Point[] {
  const last = window.at(-1);
  if (last !== undefined && p.t < last.t) return window; // out of order
  if (last !== undefined && p.t - last.t < stepMs) {
    window[window.length - 1] = { t: last.t, v: p.v };
  } else window.push(p);
  let drop = 0;
  while (drop < window.length && window[drop].t < p.t - windowMs) drop++;
  if (drop > 0) window.splice(0, drop);
  return window;
}
