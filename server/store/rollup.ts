/**
 * Rollup arithmetic on scaled integer series: min, avg, max, last and the
 * count of raw points behind each entry, so averages of averages stay
 * weighted. Raw points are rollups of one point each.
 */

/** Column-wise rollup entries, ascending in `t`. */
export interface Rollup {
  t: number[];
  min: number[];
  avg: number[];
  max: number[];
  last: number[];
  n: number[];
}

export function emptyRollup(): Rollup {
  return { t: [], min: [], avg: [], max: [], last: [], n: [] };
}

/** Raw points as one-point rollups. */
export function fromRaw(t: number[], values: number[]): Rollup {
  return {
    t,
    min: values,
    avg: values,
    max: values,
    last: values,
    n: values.map(() => 1),
  };
}

/** Entries of `r` with from <= t < to. */
export function slice(r: Rollup, from: number, to: number): Rollup {
  let i = 0;
  while (i < r.t.length && r.t[i] < from) i++;
  let j = i;
  while (j < r.t.length && r.t[j] < to) j++;
  if (i === 0 && j === r.t.length) return r;
  return {
    t: r.t.slice(i, j),
    min: r.min.slice(i, j),
    avg: r.avg.slice(i, j),
    max: r.max.slice(i, j),
    last: r.last.slice(i, j),
    n: r.n.slice(i, j),
  };
}

/** Joins rollups and sorts by time; an entry at an already-seen t is dropped. */
export function merge(parts: Rollup[]): Rollup {
  const nonEmpty = parts.filter((p) => p.t.length > 0);
  if (nonEmpty.length === 0) return emptyRollup();
  if (nonEmpty.length === 1) return nonEmpty[0];
  nonEmpty.sort((a, b) => a.t[0] - b.t[0]);
  if (
    nonEmpty.every((p, i) =>
      i === 0 || p.t[0] > nonEmpty[i - 1].t[nonEmpty[i - 1].t.length - 1]
    )
  ) {
    // Disjoint and in order (blocks of successive windows): concatenate.
    const cat = (f: keyof Rollup) => nonEmpty.flatMap((p) => p[f]);
    return {
      t: cat("t"),
      min: cat("min"),
      avg: cat("avg"),
      max: cat("max"),
      last: cat("last"),
      n: cat("n"),
    };
  }
  const idx: [number, number][] = [];
  nonEmpty.forEach((p, pi) => p.t.forEach((_, i) => idx.push([pi, i])));
  idx.sort((a, b) => nonEmpty[a[0]].t[a[1]] - nonEmpty[b[0]].t[b[1]]);
  const out = emptyRollup();
  let prev = NaN;
  for (const [pi, i] of idx) {
    const p = nonEmpty[pi];
    if (p.t[i] === prev) continue;
    prev = p.t[i];
    out.t.push(p.t[i]);
    out.min.push(p.min[i]);
    out.avg.push(p.avg[i]);
    out.max.push(p.max[i]);
    out.last.push(p.last[i]);
    out.n.push(p.n[i]);
  }
  return out;
}

/**
 * Groups entries into buckets of `stepMs` counted from `originMs`. Each
 * output entry's `t` is its bucket's start when `tAt` is "start", or the
 * count-weighted mean time of its members ("mean", for charts).
 */
export function bucketize(
  r: Rollup,
  originMs: number,
  stepMs: number,
  tAt: "start" | "mean" = "start",
): Rollup {
  const out = emptyRollup();
  let cur = NaN;
  let sum = 0;
  let tSum = 0;
  for (let i = 0; i < r.t.length; i++) {
    const b = Math.floor((r.t[i] - originMs) / stepMs);
    if (b !== cur) {
      if (out.t.length > 0) {
        const k = out.t.length - 1;
        out.avg[k] = sum / out.n[k];
        if (tAt === "mean") out.t[k] = tSum / out.n[k];
      }
      cur = b;
      out.t.push(originMs + b * stepMs);
      out.min.push(r.min[i]);
      out.max.push(r.max[i]);
      out.last.push(r.last[i]);
      out.n.push(r.n[i]);
      out.avg.push(0);
      sum = r.avg[i] * r.n[i];
      tSum = r.t[i] * r.n[i];
      continue;
    }
    const k = out.t.length - 1;
    if (r.min[i] < out.min[k]) out.min[k] = r.min[i];
    if (r.max[i] > out.max[k]) out.max[k] = r.max[i];
    out.last[k] = r.last[i];
    out.n[k] += r.n[i];
    sum += r.avg[i] * r.n[i];
    tSum += r.t[i] * r.n[i];
  }
  if (out.t.length > 0) {
    const k = out.t.length - 1;
    out.avg[k] = sum / out.n[k];
    if (tAt === "mean") out.t[k] = tSum / out.n[k];
  }
  return out;
}
