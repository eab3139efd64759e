/**
 * Writing history straight into the tiers, without going through the head:
 * for importing history from elsewhere, and for demos and benchmarks that
 * need months of data in seconds. Values are in real units; they are scaled
 * to each series' precision and split into the tier's windows here.
 */
import type { InStatement } from "@libsql/client";
import type { Database } from "./client.ts";
import { encodeTierBlock } from "./compaction.ts";
import type { Rollup } from "./rollup.ts";
import {
  metricSpec,
  type SeriesKey,
  seriesKeyString,
} from "./series_catalog.ts";
import { hostCache } from "./sample_store.ts";
import { type Tier, TIERS, windowStart } from "./tiers.ts";

/** The id of a host's series, created if new. */
export async function seriesId(
  database: Database,
  hostId: number,
  key: SeriesKey,
): Promise<number> {
  await database.client.execute({
    sql: `INSERT INTO series (host_id, kind, object, metric) VALUES (?, ?, ?, ?)
      ON CONFLICT DO NOTHING`,
    args: [hostId, key.kind, key.object, key.metric],
  });
  const rs = await database.client.execute({
    sql:
      "SELECT id FROM series WHERE host_id = ? AND kind = ? AND object = ? AND metric = ?",
    args: [hostId, key.kind, key.object, key.metric],
  });
  const id = Number(rs.rows[0].id);
  // Keep ingest's cache in step, so its next sample finds the series.
  (await hostCache(database, hostId)).series.set(seriesKeyString(key), id);
  return id;
}

/**
 * Writes entries of one series into `tier`, replacing the blocks of the
 * windows they fall in. For the raw tier only `t` and `avg` are used;
 * rollup entries should sit at the start of their minute or hour.
 */
export async function writeSeriesHistory(
  database: Database,
  hostId: number,
  key: SeriesKey,
  tier: Tier,
  entries: Rollup,
): Promise<number> {
  const id = await seriesId(database, hostId, key);
  const metric = metricSpec(key);
  const f = 10 ** metric.precision;
  const scale = (xs: number[]) => xs.map((x) => Math.round(x * f));
  const spec = TIERS[tier];
  const statements: InStatement[] = [];
  let i = 0;
  while (i < entries.t.length) {
    const w = windowStart(entries.t[i], spec.blockMs);
    let j = i;
    while (j < entries.t.length && entries.t[j] < w + spec.blockMs) j++;
    const part: Rollup = {
      t: entries.t.slice(i, j),
      min: scale(entries.min.slice(i, j)),
      avg: scale(entries.avg.slice(i, j)),
      max: scale(entries.max.slice(i, j)),
      last: scale(entries.last.slice(i, j)),
      n: entries.n.slice(i, j),
    };
    statements.push({
      sql: `INSERT OR REPLACE INTO series_blocks
        (series_id, tier, start_ms, end_ms, count, data) VALUES (?, ?, ?, ?, ?, ?)`,
      args: [
        id,
        tier,
        w,
        part.t[part.t.length - 1],
        part.t.length,
        await encodeTierBlock(tier, part, metric),
      ],
    });
    i = j;
  }
  for (let k = 0; k < statements.length; k += 200) {
    await database.client.batch(statements.slice(k, k + 200), "write");
  }
  return statements.length;
}
