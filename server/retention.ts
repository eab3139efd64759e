/**
 * Retention: samples older than RETENTION_HOURS are deleted once at start-up
 * and then every hour, in batches so ingest never waits long for the lock.
 */
import type { Clock, TimerId } from "./clock.ts";
import type { Database } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import { deleteOlderThan } from "./metrics.ts";

export const RETENTION_INTERVAL_MS = 3_600_000;
// Measured by `deno task bench:retention` (24 h of 50 hosts pruned while
// 1,000 agents send 2,000 samples/s): 5,000 rows with only a turn of the
// event loop between batches held acks back for seconds (p99 9 s); 1,000
// rows with 10-25 ms pauses kept p99 near 120 ms. See BENCHMARKS.md.
export const PRUNE_BATCH_SIZE = 1_000;
export const PRUNE_PAUSE_MS = 20;

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
  let timer: TimerId | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    timer = null;
    running = pruneNow(opts).then(
      ({ deleted, cutoffMs }) => {
        if (deleted > 0) {
          log.info(
            `retention: deleted ${deleted} samples collected before ${
              new Date(cutoffMs).toISOString()
            }`,
          );
        }
      },
      // A failed run (say, the disk is full) is retried at the next hour.
      (err) => log.error("retention: prune failed:", err),
    ).finally(() => {
      if (!stopped) timer = clock.setTimeout(tick, intervalMs);
    });
  };
  timer = clock.setTimeout(tick, 0);
  return {
    idle: () => running,
    async stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      await running;
    },
  };
}
