/**
 * Converts a database written by the first version (one JSON blob per sample
 * in `metrics`) into the series store, in place, at start: each row goes
 * through the same path as a live sample (series points in the head, state
 * changes, latest state), then is deleted; compaction and rollups follow,
 * and the freed space is returned to the file system. A crash midway loses
 * nothing: a row is only deleted after its sample was committed, and
 * re-importing a committed row is a no-op (the head's key is the sample's).
 */
import * as v from "valibot";
import { Interval, parsePayload } from "@proxmon/shared";
import type { Database } from "./client.ts";
import { recordSamples, type SampleInput } from "./sample_store.ts";
import { buildRollups, compactHead } from "./compaction.ts";
import { isFileUrl } from "./client.ts";

export interface ImportResult {
  samples: number;
  hosts: number;
  series: number;
  stateChanges: number;
  blocks: number;
  ms: number;
}

const PAGE = 1000;

/**
 * Imports every row of the legacy `metrics` table, oldest first, and
 * empties it. Returns null when there is nothing to convert. `progress` is
 * called after each page with the rows done so far.
 */
export async function importLegacyMetrics(
  database: Database,
  nowMs: number,
  progress?: (done: number, total: number) => void,
): Promise<ImportResult | null> {
  const { client } = database;
  const started = performance.now();
  const count = await client.execute("SELECT COUNT(*) AS n FROM metrics");
  const total = Number(count.rows[0].n);
  if (total === 0) return null;
  const hosts = new Set<number>();
  let done = 0;
  let after = { at: -Infinity, id: 0 };
  for (;;) {
    // Time order, so guest rates and state changes come out as they would
    // have live; the collected_at index serves it.
    const rs = await client.execute({
      sql:
        `SELECT id, host_id, interval_type, collected_at, payload FROM metrics
        WHERE collected_at > ? OR (collected_at = ? AND id > ?)
        ORDER BY collected_at, id LIMIT ?`,
      args: [
        Number.isFinite(after.at) ? after.at : -1,
        Number.isFinite(after.at) ? after.at : -1,
        after.id,
        PAGE,
      ],
    });
    if (rs.rows.length === 0) break;
    const samples: SampleInput[] = [];
    const ids: number[] = [];
    for (const r of rs.rows) {
      ids.push(Number(r.id));
      hosts.add(Number(r.host_id));
      let raw: unknown;
      try {
        raw = JSON.parse(String(r.payload));
      } catch {
        // An unreadable blob has nothing to give; it is dropped with its row.
        continue;
      }
      const interval = v.parse(Interval, r.interval_type);
      const parsed = parsePayload(interval, raw);
      if (!parsed.ok) continue;
      samples.push({
        hostId: Number(r.host_id),
        interval,
        collectedAtMs: Number(r.collected_at),
        data: parsed.payload,
      } as SampleInput);
    }
    await recordSamples(database, samples, nowMs, [], { touchHosts: false });
    await client.execute({
      sql: "DELETE FROM metrics WHERE id IN (SELECT value FROM json_each(?))",
      args: [JSON.stringify(ids)],
    });
    const last = rs.rows[rs.rows.length - 1];
    after = { at: Number(last.collected_at), id: Number(last.id) };
    done += rs.rows.length;
    progress?.(done, total);
  }
  await compactHead(database, nowMs);
  await buildRollups(database, nowMs);
  if (isFileUrl(database.url)) {
    // The blobs' pages are free now; give them back to the file system.
    await client.execute("VACUUM");
    // In WAL mode the rewritten pages sit in the WAL until a checkpoint.
    await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  const [series, changes, blocks] = await client.batch([
    "SELECT COUNT(*) AS n FROM series",
    "SELECT COUNT(*) AS n FROM state_changes",
    "SELECT COUNT(*) AS n FROM series_blocks",
  ], "read");
  return {
    samples: done,
    hosts: hosts.size,
    series: Number(series.rows[0].n),
    stateChanges: Number(changes.rows[0].n),
    blocks: Number(blocks.rows[0].n),
    ms: Math.round(performance.now() - started),
  };
}
