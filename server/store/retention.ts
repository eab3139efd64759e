/**
 * Retention: samples older than RETENTION_HOURS are deleted once at start-up
 * and then every hour, in batches so ingest never waits long for the lock.
 */
import type { Clock } from "@proxmon/shared/clock";
import { startPeriodic } from "@proxmon/shared/periodic";
import type { Database } from "./client.ts";
import type { Logger } from "@proxmon/shared/logger";
import { deleteOlderThan } from "./sample_store.ts";

export const RETENTION_INTERVAL_MS = 3_600_000;
// Measured by `deno task bench:retention` (24 h of 50 hosts pruned while
// 1,000 agents send 2,000 samples/s). The driver is synchronous, so a delete
// batch blocks the event loop, and each turn of the loop reads at most ~128
// WebSocket frames; the prune must leave most turns to ingest. 5,000 rows
// with only setTimeout(0) between batches held acks back for seconds (p99
// 9 s); 1,000 rows with 20 ms pauses still reached 0.5-1.6 s on a busy
// machine; 500 rows with 50 ms pauses (about a fifth of the loop) kept p99
// at 0.1-0.25 s. The hourly prune (about an hour of rows) stays a few
// seconds. See BENCHMARKS.md.
export const PRUNE_BATCH_SIZE = 500;
export const PRUNE_PAUSE_MS = 50;

export interface PruneOptions {
  database: Database;
  clock: Clock;
  retentionHours: number;
  batchSize?: number;
  /** pause between batches, so ingest gets the event loop */
  pauseMs?: number;
}

export interface PruneResult {
  deleted: number;
  cutoffMs: number;
}

/** Deletes every sample collected more than `retentionHours` ago, now. */
export async function pruneNow(
  {
    database,
    clock,
    retentionHours,
    batchSize = PRUNE_BATCH_SIZE,
    pauseMs = PRUNE_PAUSE_MS,
  }: PruneOptions,
): Promise<PruneResult> {
  const cutoffMs = clock.now() - retentionHours * 3_600_000;
  const deleted = await deleteOlderThan(
    database,
    cutoffMs,
    batchSize,
    pauseMs,
  );
  return { deleted, cutoffMs };
}

export interface Retention {
  /** Resolves when the prune in progress, if any, has finished. */
  idle(): Promise<void>;
  /** Cancels the schedule and waits for a running prune. */
  stop(): Promise<void>;
}

/** Starts pruning: once right away, then every `intervalMs`. */
export function startRetention(
  opts: PruneOptions & { log: Logger; intervalMs?: number },
): Retention {
  const { clock, log, intervalMs = RETENTION_INTERVAL_MS } = opts;
  return startPeriodic({
    clock,
    intervalMs,
    firstDelayMs: 0,
    run: async () => {
      const { deleted, cutoffMs } = await pruneNow(opts);
      if (deleted > 0) {
        log.info(
          `retention: deleted ${deleted} samples collected before ${
            new Date(cutoffMs).toISOString()
          }`,
        );
      }
    },
    // A failed run (say, the disk is full) is retried at the next hour.
    onError: (err) => log.error("retention: prune failed:", err),
  });
}
