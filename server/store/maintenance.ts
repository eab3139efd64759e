/**
 * The series store's background work, on a schedule: compact the head into
 * raw blocks, build the rollups that became complete, prune what outlived
 * its retention. Once right away, then every `intervalMs`. A failed run (a
 * full disk, say) is logged and retried at the next one; nothing is lost,
 * since every step commits atomically and the head keeps what it could not
 * move.
 */
import type { Clock } from "@proxmon/shared/clock";
import { type Periodic, startPeriodic } from "@proxmon/shared/periodic";
import type { Database } from "./client.ts";
import type { Logger } from "@proxmon/shared/logger";
import {
  buildRollups,
  compactHead,
  type CompactOptions,
} from "./compaction.ts";
import { pruneNow } from "./retention.ts";
import { flushLatest } from "./sample_store.ts";
import { type TierRetention, TIERS } from "./tiers.ts";

export const MAINTENANCE_INTERVAL_MS = 5 * 60_000;

export interface MaintenanceOptions {
  database: Database;
  clock: Clock;
  log: Logger;
  retention: TierRetention;
  intervalMs?: number;
  compact?: CompactOptions;
}

export interface MaintenanceRun {
  compacted: number;
  rollups: number;
  pruned: number;
  ms: number;
}

/** One pass of compaction, rollups and retention. */
export async function maintainNow(
  opts: MaintenanceOptions,
  first = true,
): Promise<MaintenanceRun> {
  const { database, clock, retention } = opts;
  const started = performance.now();
  await flushLatest(database);
  const compact = { pauseMs: 10, ...opts.compact };
  const { samples } = await compactHead(database, clock.now(), compact);
  const r = await buildRollups(database, clock.now(), {
    ...compact,
    // After the first pass only the last few windows can be new.
    lookbackMs: first ? undefined : 3 * TIERS[2].blockMs,
  });
  const p = await pruneNow({ database, nowMs: clock.now(), retention });
  return {
    compacted: samples,
    rollups: r.oneMinute + r.oneHour,
    pruned: p.blocks.raw + p.blocks["1m"] + p.blocks["1h"] + p.headRows +
      p.stateChanges,
    ms: Math.round(performance.now() - started),
  };
}

/** Starts the schedule: a first pass right away, then every `intervalMs`. */
export function startMaintenance(opts: MaintenanceOptions): Periodic {
  const { clock, log, intervalMs = MAINTENANCE_INTERVAL_MS } = opts;
  let first = true;
  return startPeriodic({
    clock,
    intervalMs,
    firstDelayMs: 0,
    run: async () => {
      const run = await maintainNow(opts, first);
      first = false;
      if (run.compacted + run.rollups + run.pruned > 0) {
        log.info(
          `store: compacted ${run.compacted} samples, built ${run.rollups} rollup blocks, pruned ${run.pruned} rows in ${run.ms} ms`,
        );
      }
    },
    // Every step commits atomically, so a failed pass is simply retried.
    onError: (err) => log.error("store: maintenance failed:", err),
  });
}
