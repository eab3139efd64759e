/**
 * Reading a tier of some series of one host over a time window, as scaled
 * rollups. Where a tier has no block for a window yet (the current day for
 * the 1-minute tier, the current week for the hourly one) the window is
 * rolled up on the fly from the tier below, down to raw blocks and the head
 * table, so a query sees every acked sample whatever compaction has done.
 */
import type { Interval } from "@proxmon/shared";
import type { Database } from "./client.ts";
import { blobOf, decodeBlock } from "./block_codec.ts";
import { forEachHeadPoint } from "./head_codec.ts";
import {
  bucketize,
  emptyRollup,
  fromRaw,
  merge,
  type Rollup,
  slice,
} from "./rollup.ts";
import { type Tier, TIERS, windowStart } from "./tiers.ts";

/** The series to read: all of one host and one interval. */
export interface SeriesSet {
  hostId: number;
  interval: Interval;
  ids: number[];
}

/** Decodes a tier block into a rollup. */
export async function decodeTierBlock(
  tier: Tier,
  blob: Uint8Array,
): Promise<Rollup> {
  const { t, cols, version } = await decodeBlock(blob);
  if (tier === 0) {
    // Raw blocks store only present values, so nulls never appear.
    return fromRaw(t, cols[0] as number[]);
  }
  // Format 1 put min first; format 2 puts avg first (the others refer to it).
  if (version === 1) {
    const [min, avg, max, last, n] = cols as number[][];
    return { t, min, avg, max, last, n };
  }
  const [avg, min, max, last, n] = cols as number[][];
  return { t, min, avg, max, last, n };
}

async function readHead(
  { client }: Database,
  set: SeriesSet,
  from: number,
  to: number,
): Promise<Map<number, Rollup>> {
  const rs = await client.execute({
    sql: `SELECT collected_at, points FROM series_head
      WHERE host_id = ? AND interval_type = ? AND collected_at >= ? AND collected_at < ?
      ORDER BY collected_at`,
    args: [set.hostId, set.interval, from, to],
  });
  const wanted = new Map(
    set.ids.map((id) => [id, { t: [] as number[], v: [] as number[] }]),
  );
  const maxId = Math.max(...set.ids);
  for (const row of rs.rows) {
    const t = Number(row.collected_at);
    forEachHeadPoint(blobOf(row.points), (id, scaled) => {
      const s = wanted.get(id);
      if (s) {
        s.t.push(t);
        s.v.push(scaled);
      }
    }, maxId);
  }
  return new Map([...wanted].map(([id, s]) => [id, fromRaw(s.t, s.v)]));
}

/**
 * Scaled rollups of each series in `set` at `tier`, for from <= t < to.
 * Raw tier entries are single points (n = 1).
 */
export async function readTier(
  database: Database,
  set: SeriesSet,
  tier: Tier,
  from: number,
  to: number,
): Promise<Map<number, Rollup>> {
  const out = new Map<number, Rollup[]>(set.ids.map((id) => [id, []]));
  if (set.ids.length === 0 || from >= to) return new Map();
  const spec = TIERS[tier];
  const rs = await database.client.execute({
    sql: `SELECT series_id, start_ms, data FROM series_blocks
      WHERE series_id IN (${set.ids.map(() => "?").join(", ")})
        AND tier = ? AND start_ms < ? AND start_ms >= ?
      ORDER BY start_ms`,
    args: [...set.ids, tier, to, windowStart(from, spec.blockMs)],
  });
  const covered = new Map<number, Set<number>>(
    set.ids.map((id) => [id, new Set()]),
  );
  for (const row of rs.rows) {
    const id = Number(row.series_id);
    covered.get(id)!.add(Number(row.start_ms));
    out.get(id)!.push(
      slice(
        await decodeTierBlock(tier, blobOf(row.data)),
        windowStart(from, spec.stepMs || 1),
        to,
      ),
    );
  }
  if (tier === 0) {
    // Everything not yet compacted is in the head.
    const head = await readHead(database, set, from, to);
    for (const [id, r] of head) out.get(id)!.push(r);
  } else {
    // Windows with no block at this tier come from the tier below, read
    // once per run of consecutive such windows: a new host's week is one
    // read per tier, not one per day and per 2 hours.
    const missing = new Map<number, number[]>();
    for (
      let w = windowStart(from, spec.blockMs);
      w < to;
      w += spec.blockMs
    ) {
      const ids = set.ids.filter((id) => !covered.get(id)!.has(w));
      if (ids.length > 0) missing.set(w, ids);
    }
    for (const run of runsOf([...missing.keys()], spec.blockMs)) {
      const ids = [...new Set(run.flatMap((w) => missing.get(w)!))];
      const lo = Math.max(from, run[0]);
      const hi = Math.min(to, run[run.length - 1] + spec.blockMs);
      const below = await readTier(
        database,
        { ...set, ids },
        (tier - 1) as Tier,
        windowStart(lo, spec.stepMs),
        hi,
      );
      for (const [id, r] of below) {
        const rolled = bucketize(r, 0, spec.stepMs);
        // Only the windows this series has no block for: the others are
        // already in `out`.
        for (const w of run) {
          if (missing.get(w)!.includes(id)) {
            out.get(id)!.push(slice(rolled, w, w + spec.blockMs));
          }
        }
      }
    }
  }
  return new Map(
    [...out].map((
      [id, parts],
    ) => [id, parts.length ? merge(parts) : emptyRollup()]),
  );
}

/** Splits ascending window starts into runs of consecutive windows. */
function runsOf(starts: number[], blockMs: number): number[][] {
  const runs: number[][] = [];
  for (const w of starts) {
    const last = runs.at(-1);
    if (last !== undefined && w === last[last.length - 1] + blockMs) {
      last.push(w);
    } else runs.push([w]);
  }
  return runs;
}
