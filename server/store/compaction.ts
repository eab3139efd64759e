/**
 * The background half of the series store. `compactHead` moves head rows of
 * closed 2-hour windows into one compressed raw block per series, and
 * `buildRollups` turns complete days of raw blocks into 1-minute blocks and
 * complete weeks of those into hourly blocks. Each step commits in one
 * transaction that writes the blocks and deletes what they replace, so a
 * crash before the commit leaves the head as it was and a crash after it
 * leaves the blocks: nothing acked is lost either way, and a rerun picks up
 * where it stopped.
 */
import type { InStatement } from "@libsql/client";
import type { Interval } from "@proxmon/shared";
import type { Database } from "./client.ts";
import { blobOf, encodeBlock } from "./block_codec.ts";
import { forEachHeadPoint } from "./head_codec.ts";
import { bucketize, merge, type Rollup } from "./rollup.ts";
import { decodeTierBlock, readTier } from "./series_read.ts";
import { type Tier, TIERS, windowStart } from "./tiers.ts";
import {
  digitsOf,
  type MetricSpec,
  metricSpec,
  type SeriesKind,
} from "./series_catalog.ts";

export interface CompactOptions {
  /** head rows younger than this stay in the head, for late samples */
  graceMs?: number;
  /** pause between transactions, so ingest gets the event loop */
  pauseMs?: number;
  /**
   * Called between the reads and the commit of each window; tests use it
   * to kill the process at the worst moment.
   */
  beforeCommit?: () => void | Promise<void>;
  /**
   * Rollups: only look for unbuilt windows this far back (ms). The
   * scheduler scans everything on its first run and a few windows after.
   */
  lookbackMs?: number;
  /**
   * compactHead: also the windows still open (at a clean stop, so the file
   * holds blocks, not head rows; later samples of the window merge in).
   */
  openWindows?: boolean;
  /** compactHead stops between windows once this says so */
  shouldStop?: () => boolean;
}

export const DEFAULT_GRACE_MS = 5 * 60_000;

/**
 * Blocks are encoded synchronously (block_codec.ts), ~0.2 ms each: a
 * window of a 50-guest host is 420 of them, so encoding gives the event
 * loop back every few dozen, and acks are not held behind a whole window.
 */
const YIELD_EVERY = 32;

const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Encodes a rollup as a tier block of a metric: raw, one column of values;
 * rollups, avg, then min, max and last as their differences from the same
 * entry's avg (they move together), then the counts. Sizes and rates keep
 * the tier's significant digits (series_catalog.ts).
 */
export function encodeTierBlock(
  tier: Tier,
  r: Rollup,
  spec: MetricSpec,
): Promise<Uint8Array> {
  const d = digitsOf(spec, tier);
  return encodeBlock(
    tier === 0 ? { t: r.t, cols: [r.avg], digits: [d] } : {
      t: r.t,
      cols: [r.avg.map(Math.round), r.min, r.max, r.last, r.n],
      digits: [d, d, d, d, 0],
      ref: [null, { col: 0, sign: "below" }, { col: 0, sign: "above" }, {
        col: 0,
      }, null],
    },
  );
}

/** The time up to which raw windows are closed (compactable). */
export function rawCutoff(nowMs: number, graceMs = DEFAULT_GRACE_MS): number {
  return windowStart(nowMs - graceMs, TIERS[0].blockMs);
}

interface HeadKey {
  interval: Interval;
  collectedAt: number;
}

/** A series missing from `series` (its block is not written anyway). */
const UNKNOWN = { kind: "host", object: "", metric: "" } as const;

/** The metric spec of each series of a host, by id. */
async function seriesSpecs(
  { client }: Database,
  hostId: number,
): Promise<Map<number, MetricSpec>> {
  const rs = await client.execute({
    sql: "SELECT id, kind, object, metric FROM series WHERE host_id = ?",
    args: [hostId],
  });
  return new Map(rs.rows.map((r) => [
    Number(r.id),
    metricSpec({
      kind: String(r.kind) as SeriesKind,
      object: String(r.object),
      metric: String(r.metric),
    }),
  ]));
}

/** Compacts one host's head rows of one raw window; returns rows moved. */
async function compactWindow(
  database: Database,
  hostId: number,
  start: number,
  opts: CompactOptions,
): Promise<number> {
  const { client } = database;
  const end = start + TIERS[0].blockMs;
  const rs = await client.execute({
    sql: `SELECT interval_type, collected_at, points FROM series_head
      WHERE host_id = ? AND collected_at >= ? AND collected_at < ?
      ORDER BY collected_at`,
    args: [hostId, start, end],
  });
  if (rs.rows.length === 0) return 0;
  const keys: HeadKey[] = [];
  const bySeries = new Map<number, { t: number[]; v: number[] }>();
  for (const row of rs.rows) {
    const t = Number(row.collected_at);
    keys.push({ interval: row.interval_type as Interval, collectedAt: t });
    forEachHeadPoint(blobOf(row.points), (id, scaled) => {
      let s = bySeries.get(id);
      if (!s) bySeries.set(id, s = { t: [], v: [] });
      s.t.push(t);
      s.v.push(scaled);
    });
  }
  const ids = [...bySeries.keys()];
  const specs = await seriesSpecs(database, hostId);
  // A late sample for a window already compacted merges into its block.
  const existing = new Map<number, Rollup>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const ex = await client.execute({
      sql: `SELECT series_id, data FROM series_blocks
        WHERE tier = 0 AND start_ms = ? AND series_id IN (${
        chunk.map(() => "?").join(", ")
      })`,
      args: [start, ...chunk],
    });
    for (const row of ex.rows) {
      existing.set(
        Number(row.series_id),
        await decodeTierBlock(0, blobOf(row.data)),
      );
    }
  }
  const statements: InStatement[] = [];
  let encoded = 0;
  for (const [id, s] of bySeries) {
    if (++encoded % YIELD_EVERY === 0) await pause(0);
    const fresh = merge([
      existing.get(id) ?? { t: [], min: [], avg: [], max: [], last: [], n: [] },
      { t: s.t, min: s.v, avg: s.v, max: s.v, last: s.v, n: s.v.map(() => 1) },
    ]);
    statements.push({
      sql: `INSERT OR REPLACE INTO series_blocks
        (series_id, tier, start_ms, end_ms, count, data)
        SELECT ?, 0, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM series WHERE id = ?)`,
      args: [
        id,
        start,
        fresh.t[fresh.t.length - 1],
        fresh.t.length,
        await encodeTierBlock(0, fresh, specs.get(id) ?? metricSpec(UNKNOWN)),
        id,
      ],
    });
    if (existing.has(id)) {
      // Rollups built from the block before this late sample are stale;
      // the next buildRollups makes them again.
      for (const tier of [1, 2] as const) {
        statements.push({
          sql:
            "DELETE FROM series_blocks WHERE series_id = ? AND tier = ? AND start_ms = ?",
          args: [id, tier, windowStart(start, TIERS[tier].blockMs)],
        });
      }
    }
  }
  const byInterval = new Map<Interval, number[]>();
  for (const k of keys) {
    const list = byInterval.get(k.interval) ?? [];
    list.push(k.collectedAt);
    byInterval.set(k.interval, list);
  }
  for (const [interval, times] of byInterval) {
    statements.push({
      sql: `DELETE FROM series_head WHERE host_id = ? AND interval_type = ?
        AND collected_at IN (SELECT value FROM json_each(?))`,
      args: [hostId, interval, JSON.stringify(times)],
    });
  }
  await opts.beforeCommit?.();
  await client.batch(statements, "write");
  return keys.length;
}

export interface CompactResult {
  samples: number;
  windows: number;
}

/**
 * Moves every head row of a closed raw window (older than `graceMs`, rounded
 * down to a 2-hour boundary) into blocks, one transaction per host and
 * window.
 */
export async function compactHead(
  database: Database,
  nowMs: number,
  opts: CompactOptions = {},
): Promise<CompactResult> {
  const cutoff = opts.openWindows
    ? windowStart(nowMs, TIERS[0].blockMs) + TIERS[0].blockMs
    : rawCutoff(nowMs, opts.graceMs);
  const rs = await database.client.execute({
    sql: `SELECT host_id, MIN(collected_at) AS first FROM series_head
      WHERE collected_at < ? GROUP BY host_id`,
    args: [cutoff],
  });
  let samples = 0;
  let windows = 0;
  for (const row of rs.rows) {
    const hostId = Number(row.host_id);
    for (
      let w = windowStart(Number(row.first), TIERS[0].blockMs);
      w < cutoff;
      w += TIERS[0].blockMs
    ) {
      if (opts.shouldStop?.()) return { samples, windows };
      const moved = await compactWindow(database, hostId, w, opts);
      if (moved > 0) {
        samples += moved;
        windows++;
        await pause(opts.pauseMs ?? 0);
      }
    }
  }
  return { samples, windows };
}

/** The interval a series' head rows carry, from its kind and metric. */
export function intervalOfSeries(kind: string, metric: string): Interval {
  if (kind === "dataset") return "medium";
  if (kind === "host" && metric === "pending_updates") return "slow";
  return "fast";
}

/**
 * Builds the blocks of rollup `tier` for every complete window that has
 * data in the tier below and no block yet. `completeBefore` is the time up
 * to which the tier below is final (raw: the compaction cutoff).
 */
async function buildTier(
  database: Database,
  tier: 1 | 2,
  completeBefore: number,
  opts: CompactOptions,
): Promise<number> {
  const { client } = database;
  const spec = TIERS[tier];
  const limit = windowStart(completeBefore, spec.blockMs);
  const rs = await client.execute({
    sql: `SELECT DISTINCT b.series_id, s.host_id, s.kind, s.metric,
        (b.start_ms / ${spec.blockMs}) * ${spec.blockMs} AS w
      FROM series_blocks b JOIN series s ON s.id = b.series_id
      WHERE b.tier = ? AND b.start_ms < ? AND b.start_ms >= ?
        AND NOT EXISTS (SELECT 1 FROM series_blocks x
          WHERE x.series_id = b.series_id AND x.tier = ?
            AND x.start_ms = (b.start_ms / ${spec.blockMs}) * ${spec.blockMs})
      ORDER BY s.host_id, w`,
    args: [
      tier - 1,
      limit,
      opts.lookbackMs === undefined ? 0 : limit - opts.lookbackMs,
      tier,
    ],
  });
  // Group by (host, interval, window) so one read covers many series.
  const groups = new Map<
    string,
    { hostId: number; interval: Interval; w: number; ids: number[] }
  >();
  const specs = new Map<number, MetricSpec>();
  for (const row of rs.rows) {
    const hostId = Number(row.host_id);
    const interval = intervalOfSeries(String(row.kind), String(row.metric));
    const w = Number(row.w);
    const k = `${hostId}\t${interval}\t${w}`;
    const g = groups.get(k) ?? { hostId, interval, w, ids: [] };
    g.ids.push(Number(row.series_id));
    specs.set(
      Number(row.series_id),
      metricSpec({
        kind: String(row.kind) as SeriesKind,
        object: "",
        metric: String(row.metric),
      }),
    );
    groups.set(k, g);
  }
  let built = 0;
  for (const g of groups.values()) {
    for (let i = 0; i < g.ids.length; i += 200) {
      const ids = g.ids.slice(i, i + 200);
      const rows = await readTier(
        database,
        { hostId: g.hostId, interval: g.interval, ids },
        (tier - 1) as Tier,
        g.w,
        g.w + spec.blockMs,
      );
      const statements: InStatement[] = [];
      let encoded = 0;
      for (const [id, r] of rows) {
        if (++encoded % YIELD_EVERY === 0) await pause(0);
        if (r.t.length === 0) continue;
        const rolled = bucketize(r, 0, spec.stepMs);
        statements.push({
          sql: `INSERT OR REPLACE INTO series_blocks
            (series_id, tier, start_ms, end_ms, count, data)
            SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM series WHERE id = ?)`,
          args: [
            id,
            tier,
            g.w,
            rolled.t[rolled.t.length - 1],
            rolled.t.length,
            await encodeTierBlock(tier, rolled, specs.get(id)!),
            id,
          ],
        });
      }
      if (statements.length === 0) continue;
      await opts.beforeCommit?.();
      await client.batch(statements, "write");
      built += statements.length;
      await pause(opts.pauseMs ?? 0);
    }
  }
  return built;
}

export interface RollupResult {
  oneMinute: number;
  oneHour: number;
}

/** Builds every 1-minute and hourly block that has become complete. */
export async function buildRollups(
  database: Database,
  nowMs: number,
  opts: CompactOptions = {},
): Promise<RollupResult> {
  const raw = rawCutoff(nowMs, opts.graceMs);
  const oneMinute = await buildTier(database, 1, raw, opts);
  const oneHour = await buildTier(
    database,
    2,
    windowStart(raw, TIERS[1].blockMs),
    opts,
  );
  return { oneMinute, oneHour };
}
