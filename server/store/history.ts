/**
 * Chart history for one host: which series each chart metric shows, read
 * through `querySeries` from the tier that fits the range, in the column
 * shape uPlot draws (`data: [timestamps, ...values]`). On rolled-up tiers
 * each series also carries its per-bucket min and max, for bands.
 */
import * as v from "valibot";
import type { Database } from "./client.ts";
import { digitsOf, metricSpec, type SeriesKey } from "./series_catalog.ts";
import { listSeries, querySeries, type SeriesData } from "./series_query.ts";
import { type TierName, type TierRetention, TIERS } from "./tiers.ts";

export const HistoryMetric = v.picklist([
  "cpu",
  "mem",
  "load",
  "net",
  "disk",
  "pools",
  "arc",
  "swap",
  "rootfs",
  "psi",
  "guest_cpu",
  "guest_mem",
  "guest_net",
  "guest_disk",
  "pool_capacity",
  "storage_used",
]);
export type HistoryMetric = v.InferOutput<typeof HistoryMetric>;

/** The time ranges the charts offer. */
export const HISTORY_RANGES = [
  "1h",
  "6h",
  "24h",
  "48h",
  "7d",
  "30d",
  "1y",
] as const;
export const HistoryRange = v.picklist(HISTORY_RANGES);
export type HistoryRange = v.InferOutput<typeof HistoryRange>;

/** The length of a range in milliseconds. */
export function rangeMs(range: HistoryRange): number {
  const n = Number.parseInt(range);
  const unit = range.slice(String(n).length);
  const hour = 3_600_000;
  return n * (unit === "h" ? hour : unit === "d" ? 24 * hour : 365 * 24 * hour);
}

export const HistoryStat = v.picklist(["avg", "min", "max"]);
export type HistoryStat = v.InferOutput<typeof HistoryStat>;

export type HistoryUnit = "percent" | "bytes" | "bytes_per_s" | "load";

export interface HistorySeries {
  key: string;
  label: string;
  /** per bucket, parallel to data[0]; only on rolled-up tiers */
  min?: (number | null)[];
  max?: (number | null)[];
}

/** A downsampled series set in the column shape uPlot draws directly. */
export interface History {
  metric: HistoryMetric;
  unit: HistoryUnit;
  /** unix ms, inclusive */
  from: number;
  /** unix ms, exclusive */
  to: number;
  bucket_ms: number;
  tier: TierName;
  /**
   * The significant digits this tier keeps of the values (sizes and rates:
   * 4 in raw and 1-minute data, 3 in hourly data, see series_catalog.ts);
   * null: every digit at the unit's precision (percent to 0.01, load to
   * 0.01, counts whole).
   */
  significant_digits: number | null;
  stat: HistoryStat;
  series: HistorySeries[];
  /**
   * `[timestamps, ...values]`: one array of unix ms, then one array per
   * series. A null row marks a gap in the data, so lines break there
   * instead of bridging an outage.
   */
  data: (number | null)[][];
}

export interface HistoryQuery {
  hostId: number;
  metric: HistoryMetric;
  fromMs: number;
  toMs: number;
  /** how many buckets the window is split into; usually the chart width */
  points: number;
  nowMs: number;
  stat?: HistoryStat;
  /** guest metrics: the guest */
  vmid?: number;
  /** pool_capacity: the pool */
  pool?: string;
  /** storage_used: the storage */
  storage?: string;
  retention?: TierRetention;
}

/** The object a metric needs, or null. */
export function objectParam(
  metric: HistoryMetric,
): "vmid" | "pool" | "storage" | null {
  if (metric.startsWith("guest_")) return "vmid";
  if (metric === "pool_capacity") return "pool";
  if (metric === "storage_used") return "storage";
  return null;
}

type Def = { unit: HistoryUnit; series: [string, string][] };

const host = (metric: string): SeriesKey => ({
  kind: "host",
  object: "",
  metric,
});

const FIXED: Record<string, Def> = {
  cpu: { unit: "percent", series: [["cpu", "CPU"]] },
  mem: {
    unit: "bytes",
    series: [["mem_used", "used"], ["mem_total", "total"]],
  },
  load: {
    unit: "load",
    series: [["load1", "1 min"], ["load5", "5 min"], ["load15", "15 min"]],
  },
  net: {
    unit: "bytes_per_s",
    series: [["net_rx", "received"], ["net_tx", "sent"]],
  },
  disk: {
    unit: "bytes_per_s",
    series: [["disk_read", "read"], ["disk_write", "written"]],
  },
  arc: { unit: "bytes", series: [["arc_size", "ARC"]] },
  swap: {
    unit: "bytes",
    series: [["swap_used", "used"], ["swap_total", "total"]],
  },
  rootfs: {
    unit: "bytes",
    series: [["rootfs_used", "used"], ["rootfs_size", "size"]],
  },
  psi: {
    unit: "percent",
    series: [
      ["psi_cpu_some", "cpu some"],
      ["psi_mem_some", "memory some"],
      ["psi_mem_full", "memory full"],
      ["psi_io_some", "io some"],
      ["psi_io_full", "io full"],
    ],
  },
  guest_cpu: { unit: "percent", series: [["cpu", "CPU"]] },
  guest_mem: { unit: "bytes", series: [["mem", "used"], ["mem_max", "max"]] },
  guest_net: {
    unit: "bytes_per_s",
    series: [["net_in", "in"], ["net_out", "out"]],
  },
  guest_disk: {
    unit: "bytes_per_s",
    series: [["disk_read", "read"], ["disk_write", "written"]],
  },
  pool_capacity: { unit: "percent", series: [["capacity", "capacity"]] },
  storage_used: {
    unit: "bytes",
    series: [["used", "used"], ["total", "total"]],
  },
};

async function seriesOf(
  database: Database,
  q: HistoryQuery,
): Promise<
  { unit: HistoryUnit; keys: SeriesKey[]; labels: [string, string][] }
> {
  if (q.metric === "pools") {
    const pools = await listSeries(database, q.hostId, {
      kind: "pool",
      metric: "capacity",
    });
    return {
      unit: "percent",
      keys: pools,
      labels: pools.map((p) => [p.object, p.object]),
    };
  }
  const def = FIXED[q.metric];
  const object = q.metric.startsWith("guest_")
    ? { kind: "guest" as const, object: String(q.vmid) }
    : q.metric === "pool_capacity"
    ? { kind: "pool" as const, object: q.pool ?? "" }
    : q.metric === "storage_used"
    ? { kind: "storage" as const, object: q.storage ?? "" }
    : null;
  return {
    unit: def.unit,
    keys: def.series.map(([m]) => object ? { ...object, metric: m } : host(m)),
    labels: def.series,
  };
}

const ROUNDING: Record<HistoryUnit, (x: number) => number> = {
  percent: (x) => Math.round(x * 100) / 100,
  load: (x) => Math.round(x * 100) / 100,
  bytes: Math.round,
  bytes_per_s: Math.round,
};

/**
 * Joins series that were bucketed alike into rows on one time axis (a
 * bucket missing in one series is null there), inserting a null row where
 * the data has a gap of more than three sample spacings.
 */
function columns(
  all: SeriesData[],
  bucketMs: number,
  fromMs: number,
  stat: HistoryStat,
  round: (x: number) => number,
  bands: boolean,
) {
  const buckets = new Map<number, { t: number; n: number; at: number[] }>();
  all.forEach((s, si) => {
    s.t.forEach((t, i) => {
      const b = Math.floor((t - fromMs) / bucketMs);
      const e = buckets.get(b) ?? { t, n: 0, at: all.map(() => -1) };
      e.n = Math.max(e.n, s.n[i]);
      e.at[si] = i;
      buckets.set(b, e);
    });
  });
  const order = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const samples = order.reduce((a, [, e]) => a + e.n, 0);
  const span = order.length > 1
    ? order[order.length - 1][1].t - order[0][1].t
    : 0;
  const spacing = span / Math.max(1, samples - 1);
  const gap = order.length < 2
    ? Infinity
    : Math.max(1, Math.ceil((3 * spacing) / bucketMs));
  const data: (number | null)[][] = [[], ...all.map(() => [])];
  const mins: (number | null)[][] = all.map(() => []);
  const maxs: (number | null)[][] = all.map(() => []);
  const push = (
    t: number,
    vals: (number | null)[],
    lo: (number | null)[],
    hi: (number | null)[],
  ) => {
    data[0].push(t);
    vals.forEach((x, i) => {
      data[i + 1].push(x === null ? null : round(x));
      mins[i].push(lo[i] === null ? null : round(lo[i]!));
      maxs[i].push(hi[i] === null ? null : round(hi[i]!));
    });
  };
  const nulls = all.map(() => null);
  order.forEach(([b, e], k) => {
    const prev = order[k - 1];
    if (prev && b - prev[0] > gap) {
      push(Math.round((prev[1].t + e.t) / 2), nulls, nulls, nulls);
    }
    const pick = (f: "avg" | "min" | "max") =>
      all.map((s, si) => (e.at[si] < 0 ? null : s[f][e.at[si]]));
    push(Math.round(e.t), pick(stat), pick("min"), pick("max"));
  });
  return { data, mins: bands ? mins : null, maxs: bands ? maxs : null };
}

/** Reads and downsamples one chart metric of one host over `[fromMs, toMs)`. */
export async function loadHistory(
  database: Database,
  q: HistoryQuery,
): Promise<History> {
  const stat = q.stat ?? "avg";
  const { unit, keys, labels } = await seriesOf(database, q);
  const result = await querySeries(database, {
    hostId: q.hostId,
    keys,
    fromMs: q.fromMs,
    toMs: q.toMs,
    points: q.points,
    nowMs: q.nowMs,
    retention: q.retention,
  });
  const rolled = result.tier !== "raw";
  const { data, mins, maxs } = columns(
    result.series,
    result.bucketMs,
    q.fromMs,
    stat,
    ROUNDING[unit],
    rolled,
  );
  return {
    metric: q.metric,
    unit,
    from: q.fromMs,
    to: q.toMs,
    bucket_ms: result.bucketMs,
    tier: result.tier,
    significant_digits: keys.length === 0 ? null : digitsOf(
      metricSpec(keys[0]),
      TIERS.find((t) => t.name === result.tier)!.tier,
    ) || null,
    stat,
    series: labels.map(([key, label], i) => ({
      key,
      label,
      ...(mins && maxs ? { min: mins[i], max: maxs[i] } : {}),
    })),
    data,
  };
}
