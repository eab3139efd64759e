/**
 * One pass of maintenance over the store's tables: compact the head's
 * closed windows into raw blocks, build the rollups that became complete,
 * prune what outlived its retention. It needs only a connection and
 * serialisable options, so it runs on the ingest thread or on a Worker
 * with its own connection alike (`worker_table_pass.ts`).
 */
import type { Database } from "./client.ts";
import {
  buildRollups,
  compactHead,
  type CompactOptions,
} from "./compaction.ts";
import { pruneNow } from "./retention.ts";
import { type TierRetention, TIERS } from "./tiers.ts";

/** What a pass needs besides the database. */
export interface TablePassOptions {
  nowMs: number;
  retention: TierRetention;
  /** the first pass looks back over all history for rollups */
  first: boolean;
  pauseMs?: number;
  graceMs?: number;
}

export interface MaintenanceRun {
  compacted: number;
  rollups: number;
  pruned: number;
  ms: number;
}

/** Where passes run: this thread or a Worker. */
export interface TablePass {
  run(opts: TablePassOptions): Promise<MaintenanceRun>;
  /** Ends a pass in progress between two windows, and the Worker if any. */
  stop(): Promise<void>;
}

/** Compaction, rollups and retention, on `database`'s connection. */
export async function maintainTables(
  database: Database,
  opts: TablePassOptions & Pick<CompactOptions, "shouldStop">,
): Promise<MaintenanceRun> {
  const { nowMs, retention } = opts;
  const started = performance.now();
  const compact: CompactOptions = {
    pauseMs: opts.pauseMs ?? 10,
    graceMs: opts.graceMs,
    shouldStop: opts.shouldStop,
  };
  const { samples } = await compactHead(database, nowMs, compact);
  const r = await buildRollups(database, nowMs, {
    ...compact,
    // After the first pass only the last few windows can be new.
    lookbackMs: opts.first ? undefined : 3 * TIERS[2].blockMs,
  });
  const p = await pruneNow({ database, nowMs, retention });
  return {
    compacted: samples,
    rollups: r.oneMinute + r.oneHour,
    pruned: p.blocks.raw + p.blocks["1m"] + p.blocks["1h"] + p.headRows +
      p.stateChanges,
    ms: Math.round(performance.now() - started),
  };
}
