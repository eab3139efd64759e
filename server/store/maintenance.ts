/**
 * The series store's background work, on a schedule: compact the head into
 * raw blocks, build the rollups that became complete, prune what outlived
 * its retention. Once right away, then every `intervalMs`. A failed run (a
 * full disk, say) is logged and retried at the next one; nothing is lost,
 * since every step commits atomically and the head keeps what it could not
 * move.
 *
 * With a local database file the table work runs on a Worker with its own
 * connection (`maintenance_worker.ts`): decoding head rows, deflating
 * blocks and building rollups took half of the ingest thread while a
 * 50-guest host's day was compacted, and on a Worker they use the other
 * core. Only the latest payloads, which live in the ingest thread's memory,
 * are written there (`flushLatest`) before each pass.
 */
import type { Clock } from "@proxmon/shared/clock";
import { type Periodic, startPeriodic } from "@proxmon/shared/periodic";
import type { Database } from "./client.ts";
import type { Logger } from "@proxmon/shared/logger";
import type { CompactOptions } from "./compaction.ts";
import { flushLatest } from "./sample_store.ts";
import type { TierRetention } from "./tiers.ts";
import {
  maintainTables,
  type MaintenanceRun,
  type TablePass,
} from "./table_pass.ts";
import { workerTablePass } from "./worker_table_pass.ts";

export { maintainTables, type MaintenanceRun } from "./table_pass.ts";

export const MAINTENANCE_INTERVAL_MS = 5 * 60_000;

export interface MaintenanceOptions {
  database: Database;
  clock: Clock;
  log: Logger;
  retention: TierRetention;
  intervalMs?: number;
  compact?: CompactOptions;
  /**
   * Run the table work on a Worker (local files only); on by default. A
   * Worker that cannot start leaves it on this thread, logged.
   */
  worker?: boolean;
}

/** One pass of compaction, rollups and retention, on this thread. */
export async function maintainNow(
  opts: MaintenanceOptions,
  first = true,
): Promise<MaintenanceRun> {
  await flushLatest(opts.database);
  return await maintainTables(opts.database, {
    nowMs: opts.clock.now(),
    retention: opts.retention,
    first,
    pauseMs: opts.compact?.pauseMs,
    graceMs: opts.compact?.graceMs,
  });
}

/** Starts the schedule: a first pass right away, then every `intervalMs`. */
export function startMaintenance(opts: MaintenanceOptions): Periodic {
  const { database, clock, log, intervalMs = MAINTENANCE_INTERVAL_MS } = opts;
  const local: TablePass = {
    run: (o) => maintainTables(database, o),
    stop: () => Promise.resolve(),
  };
  // A Worker opens the file by its URL: not for `:memory:` or remote ones.
  const onWorker = (opts.worker ?? true) && database.url.startsWith("file:") &&
    !database.url.includes(":memory:");
  let tables: Promise<TablePass> | null = null;
  const tablePass = () =>
    tables ??= onWorker
      ? workerTablePass(database.url, log).catch((err) => {
        log.error(
          "store: maintenance's worker did not start; it runs on the main thread:",
          err,
        );
        return local;
      })
      : Promise.resolve(local);
  let first = true;
  const periodic = startPeriodic({
    clock,
    intervalMs,
    firstDelayMs: 0,
    run: async () => {
      await flushLatest(database);
      const run = await (await tablePass()).run({
        nowMs: clock.now(),
        retention: opts.retention,
        first,
        pauseMs: opts.compact?.pauseMs,
        graceMs: opts.compact?.graceMs,
      });
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
  return {
    idle: () => periodic.idle(),
    async stop() {
      // A pass in progress on the Worker ends between two windows.
      const stopping = tables?.then((t) => t.stop());
      await periodic.stop();
      await stopping;
    },
  };
}
