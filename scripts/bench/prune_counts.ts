/**
 * What a raw-tier prune at a cutoff deletes, counted beforehand, so the
 * retention benchmark can check the production prune against it: the raw
 * blocks whose whole window lies before the cutoff and the head rows older
 * than it (as `pruneNow` in server/store/retention.ts selects them), and
 * the samples those hold. After the prune the same count must be zero.
 */
import type { Database } from "../../server/store/client.ts";
import { storedSampleCounts } from "../../server/store/sample_count.ts";
import { TIERS, windowStart } from "../../server/store/tiers.ts";

export interface PruneCounts {
  rawBlocks: number;
  headRows: number;
  /** samples in those blocks and rows, every interval */
  samples: number;
}

const RAW = TIERS[0];

/** Counts what pruning the raw tier and head at `cutoffMs` deletes. */
export async function countPrunable(
  database: Database,
  cutoffMs: number,
): Promise<PruneCounts> {
  // pruneNow deletes a raw block when start_ms < cutoff - blockMs; with
  // windows aligned to blockMs, those are exactly the blocks starting
  // before `edge`, and every point of theirs lies before it.
  const blockCutoff = cutoffMs - RAW.blockMs;
  const edge = windowStart(blockCutoff - 1, RAW.blockMs) + RAW.blockMs;
  const [blocks, head, headAfterEdge] = await database.client.batch([
    {
      sql:
        "SELECT COUNT(*) AS n FROM series_blocks WHERE tier = ? AND start_ms < ?",
      args: [RAW.tier, blockCutoff],
    },
    {
      sql: "SELECT COUNT(*) AS n FROM series_head WHERE collected_at < ?",
      args: [cutoffMs],
    },
    {
      sql:
        "SELECT COUNT(*) AS n FROM series_head WHERE collected_at >= ? AND collected_at < ?",
      args: [edge, cutoffMs],
    },
  ], "read");
  // Samples up to edge - 1: those deleted blocks' points and the head rows
  // before the edge; the head rows between the edge and the cutoff go too.
  const upToEdge = await storedSampleCounts(database, edge - 1);
  return {
    rawBlocks: Number(blocks.rows[0].n),
    headRows: Number(head.rows[0].n),
    samples: upToEdge.fast + upToEdge.medium + upToEdge.slow +
      Number(headAfterEdge.rows[0].n),
  };
}

/** Every sample the store holds, all intervals. */
export async function countSamples(database: Database): Promise<number> {
  const c = await storedSampleCounts(database);
  return c.fast + c.medium + c.slow;
}
