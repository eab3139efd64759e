/**
 * Chart history for one host, read from the small `summary` column that
 * ingest fills (see summary.ts), never from whole payloads. SQLite averages
 * the samples into time buckets, so a 48 h chart costs one grouped query and
 * returns at most `points` rows whatever the sample rate.
 */
import { sql } from "drizzle-orm";
import * as v from "valibot";
import type { Database } from "./client.ts";

export const HistoryMetric = v.picklist([
  "cpu",
  "mem",
  "load",
  "net",
  "disk",
  "pools",
]);
export type HistoryMetric = v.InferOutput<typeof HistoryMetric>;

/** The time ranges the charts offer. */
export const HISTORY_RANGES = ["1h", "6h", "24h", "48h"] as const;
export const HistoryRange = v.picklist(HISTORY_RANGES);
export type HistoryRange = v.InferOutput<typeof HistoryRange>;

/** The length of a range in milliseconds. */
export function rangeMs(range: HistoryRange): number {
  return Number.parseInt(range) * 3_600_000;
}

export type HistoryUnit = "percent" | "bytes" | "bytes_per_s" | "load";

export interface HistorySeries {
  key: string;
  label: string;
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
}

interface FixedMetric {
  unit: HistoryUnit;
  /** summary field -> series label */
  fields: [string, string][];
}

const FIXED: Record<Exclude<HistoryMetric, "pools">, FixedMetric> = {
  cpu: { unit: "percent", fields: [["cpu", "CPU"]] },
  mem: {
    unit: "bytes",
    fields: [["mem_used", "used"], ["mem_total", "total"]],
  },
  load: {
    unit: "load",
    fields: [["load1", "1 min"], ["load5", "5 min"], ["load15", "15 min"]],
  },
  net: {
    unit: "bytes_per_s",
    fields: [["net_rx", "received"], ["net_tx", "sent"]],
  },
  disk: {
    unit: "bytes_per_s",
    fields: [["disk_read", "read"], ["disk_write", "written"]],
  },
};

/** One bucket as SQLite returns it. */
interface BucketRow {
  b: number;
  t: number;
  n: number;
}

const ROUNDING: Record<HistoryUnit, (x: number) => number> = {
  percent: (x) => Math.round(x * 100) / 100,
  load: (x) => Math.round(x * 100) / 100,
  bytes: Math.round,
  bytes_per_s: Math.round,
};

/** Reads and downsamples one metric of one host over `[fromMs, toMs)`. */
export async function loadHistory(
  { db }: Database,
  q: HistoryQuery,
): Promise<History> {
  const bucketMs = Math.max(1, Math.ceil((q.toMs - q.fromMs) / q.points));
  const window = sql`m.host_id = ${q.hostId} AND m.interval_type = 'fast'
    AND m.collected_at >= ${q.fromMs} AND m.collected_at < ${q.toMs}
    AND m.summary IS NOT NULL`;
  // CAST keeps the division whole even if the driver binds numbers as REAL.
  const bucket =
    sql`CAST((m.collected_at - ${q.fromMs}) / ${bucketMs} AS INTEGER)`;

  let unit: HistoryUnit;
  let series: HistorySeries[];
  let buckets: { row: BucketRow; values: (number | null)[] }[];

  if (q.metric === "pools") {
    unit = "percent";
    const rows = await db.all<BucketRow & { pool: string; v: number | null }>(
      sql`SELECT ${bucket} AS b, p.key AS pool,
          AVG(m.collected_at) AS t, COUNT(*) AS n, AVG(p.value) AS v
        FROM metrics m, json_each(m.summary, '$.pools') p
        WHERE ${window}
        GROUP BY b, p.key ORDER BY b, p.key`,
    );
    const pools = [...new Set(rows.map((r) => r.pool))].sort();
    series = pools.map((p) => ({ key: p, label: p }));
    const byBucket = new Map<
      number,
      { row: BucketRow; values: (number | null)[] }
    >();
    for (const r of rows) {
      let entry = byBucket.get(r.b);
      if (!entry) {
        entry = { row: r, values: pools.map(() => null) };
        byBucket.set(r.b, entry);
      }
      entry.row = { ...entry.row, n: Math.max(entry.row.n, r.n) };
      entry.values[pools.indexOf(r.pool)] = r.v;
    }
    buckets = [...byBucket.values()];
  } else {
    const { fields } = FIXED[q.metric];
    unit = FIXED[q.metric].unit;
    series = fields.map(([key, label]) => ({ key, label }));
    const averages = sql.join(
      fields.map(([key], i) =>
        sql`AVG(json_extract(m.summary, ${"$." + key})) AS ${sql.raw(`s${i}`)}`
      ),
      sql`, `,
    );
    const rows = await db.all<BucketRow & Record<string, number | null>>(
      sql`SELECT ${bucket} AS b, AVG(m.collected_at) AS t, COUNT(*) AS n,
          ${averages}
        FROM metrics m WHERE ${window}
        GROUP BY b ORDER BY b`,
    );
    buckets = rows.map((r) => ({
      row: r,
      values: fields.map((_, i) => r[`s${i}`]),
    }));
  }

  const round = ROUNDING[unit];
  const data: (number | null)[][] = [[], ...series.map(() => [])];
  const push = (t: number, values: (number | null)[]) => {
    data[0].push(t);
    values.forEach((x, i) => data[i + 1].push(x === null ? null : round(x)));
  };
  const gap = gapBuckets(buckets.map((e) => e.row), bucketMs);
  buckets.forEach(({ row, values }, i) => {
    const prev = buckets[i - 1]?.row;
    if (prev && row.b - prev.b > gap) {
      push(Math.round((prev.t + row.t) / 2), series.map(() => null));
    }
    push(Math.round(row.t), values);
  });

  return {
    metric: q.metric,
    unit,
    from: q.fromMs,
    to: q.toMs,
    bucket_ms: bucketMs,
    series,
    data,
  };
}

/**
 * How many buckets may lie empty between two points before the line should
 * break. When samples are sparser than buckets, empty buckets are normal;
 * three typical sample spacings without data mean the host was away.
 */
function gapBuckets(rows: BucketRow[], bucketMs: number): number {
  if (rows.length < 2) return Infinity;
  const samples = rows.reduce((a, r) => a + r.n, 0);
  const span = rows[rows.length - 1].t - rows[0].t;
  const spacingMs = span / Math.max(1, samples - 1);
  return Math.max(1, Math.ceil((3 * spacingMs) / bucketMs));
}
