/**
 * Retention of the series store: each tier's blocks are deleted once their
 * whole window is older than that tier's retention; head rows older than
 * the raw retention and state changes older than the hourly retention go
 * too. Deletes run in batches, pausing between them, so ingest never waits
 * long for the lock (the local driver is synchronous; see BENCHMARKS.md).
 */
import type { Database } from "./client.ts";
import { retentionOf, type TierRetention, TIERS } from "./tiers.ts";

export const PRUNE_BATCH_SIZE = 500;
export const PRUNE_PAUSE_MS = 50;

export interface PruneOptions {
  database: Database;
  nowMs: number;
  retention: TierRetention;
  batchSize?: number;
  /** pause between batches, so ingest gets the event loop */
  pauseMs?: number;
}

export interface PruneResult {
  /** blocks deleted per tier name */
  blocks: Record<"raw" | "1m" | "1h", number>;
  headRows: number;
  stateChanges: number;
  /** the raw tier's cutoff */
  cutoffMs: number;
}

const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

async function deleteInBatches(
  database: Database,
  sql: string,
  args: number[],
  batchSize: number,
  pauseMs: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const rs = await database.client.execute({
      sql,
      args: [...args, batchSize],
    });
    total += rs.rowsAffected;
    if (rs.rowsAffected < batchSize) return total;
    await pause(pauseMs);
  }
}

/** Deletes whatever has outlived its tier's retention, now. */
export async function pruneNow(
  {
    database,
    nowMs,
    retention,
    batchSize = PRUNE_BATCH_SIZE,
    pauseMs = PRUNE_PAUSE_MS,
  }: PruneOptions,
): Promise<PruneResult> {
  const blocks = { raw: 0, "1m": 0, "1h": 0 };
  for (const spec of TIERS) {
    // A block goes when its whole window is past the cutoff.
    const cutoff = nowMs - retentionOf(retention, spec.tier) - spec.blockMs;
    blocks[spec.name] = await deleteInBatches(
      database,
      `DELETE FROM series_blocks WHERE (series_id, tier, start_ms) IN (
        SELECT series_id, tier, start_ms FROM series_blocks
        WHERE tier = ? AND start_ms < ? LIMIT ?)`,
      [spec.tier, cutoff],
      batchSize,
      pauseMs,
    );
  }
  const cutoffMs = nowMs - retention.rawMs;
  const headRows = await deleteInBatches(
    database,
    `DELETE FROM series_head WHERE (host_id, interval_type, collected_at) IN (
      SELECT host_id, interval_type, collected_at FROM series_head
      WHERE collected_at < ? LIMIT ?)`,
    [cutoffMs],
    batchSize,
    pauseMs,
  );
  const stateChanges = await deleteInBatches(
    database,
    `DELETE FROM state_changes WHERE id IN (
      SELECT id FROM state_changes WHERE at < ? LIMIT ?)`,
    [nowMs - retention.oneHourMs],
    batchSize,
    pauseMs,
  );
  return { blocks, headRows, stateChanges, cutoffMs };
}
