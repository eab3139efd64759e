/**
 * How many samples the store holds, per interval: the head's rows plus, for
 * each host and interval, the raw-block points of its fullest series (every
 * sample of an interval carries that interval's main numbers, such as the
 * host's CPU for fast samples). For benchmarks and checks that must see a
 * sample whether or not compaction has moved it.
 */
import { type Interval, INTERVALS } from "@proxmon/shared";
import type { Database } from "./client.ts";
import { blobOf } from "./block_codec.ts";
import { intervalOfSeries } from "./compaction.ts";
import { decodeTierBlock } from "./series_read.ts";

export async function storedSampleCounts(
  { client }: Database,
  untilMs = Number.MAX_SAFE_INTEGER,
): Promise<Record<Interval, number>> {
  const counts = Object.fromEntries(INTERVALS.map((i) => [i, 0])) as Record<
    Interval,
    number
  >;
  const head = await client.execute({
    sql: `SELECT interval_type, COUNT(*) AS n FROM series_head
      WHERE collected_at <= ? GROUP BY interval_type`,
    args: [untilMs],
  });
  for (const r of head.rows) counts[r.interval_type as Interval] += Number(r.n);
  const perSeries = await client.execute({
    sql: `SELECT s.id, s.host_id, s.kind, s.metric, SUM(b.count) AS n
      FROM series_blocks b JOIN series s ON s.id = b.series_id
      WHERE b.tier = 0 AND b.start_ms <= ? GROUP BY s.id`,
    args: [untilMs],
  });
  // the fullest series of each host and interval
  const best = new Map<string, { id: number; n: number; interval: Interval }>();
  for (const r of perSeries.rows) {
    const interval = intervalOfSeries(String(r.kind), String(r.metric));
    const key = `${r.host_id}\t${interval}`;
    const n = Number(r.n);
    if ((best.get(key)?.n ?? -1) < n) {
      best.set(key, { id: Number(r.id), n, interval });
    }
  }
  for (const { id, interval } of best.values()) {
    const blocks = await client.execute({
      sql: `SELECT end_ms, count, data FROM series_blocks
        WHERE series_id = ? AND tier = 0 AND start_ms <= ?`,
      args: [id, untilMs],
    });
    for (const b of blocks.rows) {
      if (Number(b.end_ms) <= untilMs) {
        counts[interval] += Number(b.count);
        continue;
      }
      // a block reaching past `untilMs`: count its points up to there
      const r = await decodeTierBlock(0, blobOf(b.data));
      counts[interval] += r.t.filter((t) => t <= untilMs).length;
    }
  }
  return counts;
}
