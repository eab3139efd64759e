/**
 * The typed read API of the series store, for charts, alerts and exports:
 * `listSeries` says which series a host has, `querySeries` returns some of
 * them over a window, bucketed to at most `points` entries, from the tier
 * that fits (see tiers.ts `pickTier`), in real units.
 */
import type { Interval } from "@proxmon/shared";
import type { Database } from "./client.ts";
import { intervalOfSeries } from "./compaction.ts";
import { bucketize, type Rollup } from "./rollup.ts";
import {
  metricSpec,
  type SeriesKey,
  seriesKeyString,
  type SeriesKind,
} from "./series_catalog.ts";
import { readTier } from "./series_read.ts";
import {
  DEFAULT_RETENTION,
  pickTier,
  type Tier,
  type TierName,
  type TierRetention,
  TIERS,
} from "./tiers.ts";

export type { SeriesKey, SeriesKind, TierName };

/** The series of a host, optionally of one kind (and object). */
export async function listSeries(
  { client }: Database,
  hostId: number,
  filter: { kind?: SeriesKind; object?: string; metric?: string } = {},
): Promise<(SeriesKey & { id: number })[]> {
  const rs = await client.execute({
    sql: `SELECT id, kind, object, metric FROM series WHERE host_id = ?
      AND (? IS NULL OR kind = ?) AND (? IS NULL OR object = ?)
      AND (? IS NULL OR metric = ?)
      ORDER BY kind, object, metric`,
    args: [
      hostId,
      filter.kind ?? null,
      filter.kind ?? null,
      filter.object ?? null,
      filter.object ?? null,
      filter.metric ?? null,
      filter.metric ?? null,
    ],
  });
  return rs.rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind as SeriesKind,
    object: String(r.object),
    metric: String(r.metric),
  }));
}

/**
 * A host's series ids by key. Ingest's cache holds every series of a host
 * it has seen (loaded whole, then kept in step with each insert), so a
 * chart or an alert rule needs no query for them.
 */
async function seriesIds(
  database: Database,
  hostId: number,
): Promise<ReadonlyMap<string, number>> {
  const cached = database.cache.hosts.get(hostId)?.series;
  if (cached !== undefined) return cached;
  const known = await listSeries(database, hostId);
  return new Map(known.map((s) => [seriesKeyString(s), s.id]));
}

export interface SeriesQuery {
  hostId: number;
  keys: SeriesKey[];
  /** unix ms, inclusive */
  fromMs: number;
  /** unix ms, exclusive */
  toMs: number;
  /** most buckets returned per series; the bucket width is span / points */
  points: number;
  /** for choosing the tier: what "now" is and how long tiers are kept */
  nowMs: number;
  retention?: TierRetention;
  /** force a tier instead of choosing one */
  tier?: TierName;
}

/** One series over the window, bucketed; arrays are parallel to `t`. */
export interface SeriesData {
  key: SeriesKey;
  /** bucket times: the mean time of the points in each bucket */
  t: number[];
  avg: number[];
  min: number[];
  max: number[];
  last: number[];
  /** raw points behind each bucket */
  n: number[];
}

export interface SeriesResult {
  tier: TierName;
  bucketMs: number;
  /** one per key, in the order asked; empty arrays for unknown series */
  series: SeriesData[];
}

function unscale(key: SeriesKey, r: Rollup): SeriesData {
  const f = 10 ** metricSpec(key).precision;
  const u = (xs: number[]) => xs.map((x) => x / f);
  return {
    key,
    t: r.t.map(Math.round),
    avg: u(r.avg),
    min: u(r.min),
    max: u(r.max),
    last: u(r.last),
    n: r.n,
  };
}

/**
 * Reads and buckets some series of one host. Keys of different intervals
 * (a guest's CPU and a dataset's size) may be mixed; each is read where it
 * is stored.
 */
export async function querySeries(
  database: Database,
  q: SeriesQuery,
): Promise<SeriesResult> {
  const bucketMs = Math.max(1, Math.ceil((q.toMs - q.fromMs) / q.points));
  const tier: Tier = q.tier
    ? TIERS.find((t) => t.name === q.tier)!.tier
    : pickTier(
      q.fromMs,
      q.toMs,
      q.points,
      q.nowMs,
      q.retention ?? DEFAULT_RETENTION,
    );
  const ids = await seriesIds(database, q.hostId);
  const byInterval = new Map<Interval, number[]>();
  for (const k of q.keys) {
    const id = ids.get(seriesKeyString(k));
    if (id === undefined) continue;
    const interval = intervalOfSeries(k.kind, k.metric);
    byInterval.set(interval, [...(byInterval.get(interval) ?? []), id]);
  }
  const rows = new Map<number, Rollup>();
  for (const [interval, list] of byInterval) {
    const got = await readTier(
      database,
      { hostId: q.hostId, interval, ids: list },
      tier,
      q.fromMs,
      q.toMs,
    );
    for (const [id, r] of got) rows.set(id, r);
  }
  return {
    tier: TIERS[tier].name,
    bucketMs,
    series: q.keys.map((k) => {
      const id = ids.get(seriesKeyString(k));
      const r = id === undefined ? undefined : rows.get(id);
      const empty = { t: [], min: [], avg: [], max: [], last: [], n: [] };
      return unscale(k, bucketize(r ?? empty, q.fromMs, bucketMs, "mean"));
    }),
  };
}
