/**
 * The proxmon server with one addition for the retention benchmark: SIGUSR1
 * runs the production prune (`pruneNow`, same batch size) inside the server
 * process, on the server's own database connection, while agents are
 * connected. The server's own prune runs with its maintenance, at start-up
 * and then every 5 minutes, so it cannot be timed against live ingest.
 *
 * Env: everything `server/main.ts` reads, plus
 *   BENCH_PRUNE_CUTOFF_MS   delete samples collected before this epoch ms
 *   BENCH_PRUNE_RESULT      file to write the PruneReport to
 *   BENCH_PRUNE_BATCH       rows per delete batch, to try other sizes than
 *                           retention.ts's PRUNE_BATCH_SIZE (default: that)
 *   BENCH_PRUNE_PAUSE       ms between batches, likewise (PRUNE_PAUSE_MS)
 *   BENCH_TRACE             file to append, every 250 ms, the event loop's
 *                           worst lag, the WAL's size and the ingest
 *                           writer's counters
 * Set RETENTION_HOURS high so the start-up prune deletes nothing.
 */
import { systemClock } from "../../shared/clock.ts";
import { resolveServerConfig } from "../../server/config.ts";
import { consoleLogger } from "@proxmon/shared/logger";
import {
  PRUNE_BATCH_SIZE,
  PRUNE_PAUSE_MS,
  pruneNow,
} from "../../server/store/retention.ts";
import { startServer } from "../../server/server.ts";

/** What the prune wrote to BENCH_PRUNE_RESULT. */
export interface PruneReport {
  startMs: number;
  endMs: number;
  /** raw blocks and head rows deleted */
  deleted: number;
  rawBlocks: number;
  headRows: number;
  cutoffMs: number;
  batchSize: number;
  pauseMs: number;
}

/**
 * Samples how late a 10 ms timer fires (the event loop's lag: a synchronous
 * SQLite call blocks it) and the writer's counters, for finding stalls.
 */
function traceLoop(
  server: Awaited<ReturnType<typeof startServer>>,
  path: string,
  dbPath: string,
): { stop(): void } {
  let expected = performance.now() + 10;
  let worst = 0;
  const lag = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + 10;
  }, 10);
  const lines: string[] = [];
  const dump = setInterval(() => {
    const w = server.deps.writer.stats();
    let walBytes = 0;
    try {
      walBytes = Deno.statSync(`${dbPath}-wal`).size;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    lines.push(JSON.stringify({
      atMs: Date.now(),
      worstLagMs: Math.round(worst),
      walBytes,
      received: w.received,
      stored: w.stored,
      batches: w.batches,
    }));
    worst = 0;
  }, 250);
  return {
    stop() {
      clearInterval(lag);
      clearInterval(dump);
      Deno.writeTextFileSync(path, lines.join("\n") + "\n");
    },
  };
}

async function main(): Promise<number> {
  const resolved = resolveServerConfig(Deno.env.toObject());
  if (!resolved.ok) {
    console.error(`prune_server: ${resolved.error}`);
    return 1;
  }
  const cutoff = Number(Deno.env.get("BENCH_PRUNE_CUTOFF_MS"));
  const resultPath = Deno.env.get("BENCH_PRUNE_RESULT");
  if (!Number.isFinite(cutoff) || !resultPath) {
    console.error(
      "prune_server: set BENCH_PRUNE_CUTOFF_MS and BENCH_PRUNE_RESULT",
    );
    return 1;
  }
  const batchText = Deno.env.get("BENCH_PRUNE_BATCH");
  const batchSize = batchText ? Number(batchText) : undefined;
  const pauseText = Deno.env.get("BENCH_PRUNE_PAUSE");
  const pauseMs = pauseText ? Number(pauseText) : undefined;
  const server = await startServer(resolved.config, { log: consoleLogger });
  consoleLogger.info(`prune_server listening on ${server.url}`);
  const tracePath = Deno.env.get("BENCH_TRACE");
  const trace = tracePath
    ? traceLoop(
      server,
      tracePath,
      resolved.config.databaseUrl.replace(/^file:/, ""),
    )
    : null;
  let pruning: Promise<void> | null = null;
  Deno.addSignalListener("SIGUSR1", () => {
    pruning ??= (async () => {
      const startMs = systemClock.now();
      const year = 365 * 24 * 3_600_000;
      const pruned = await pruneNow({
        database: server.deps.database,
        nowMs: startMs,
        retention: {
          rawMs: startMs - cutoff,
          oneMinuteMs: year,
          oneHourMs: year,
        },
        batchSize,
        pauseMs,
      });
      const { cutoffMs } = pruned;
      const deleted = pruned.headRows + pruned.blocks.raw;
      const report: PruneReport = {
        startMs,
        endMs: systemClock.now(),
        deleted,
        rawBlocks: pruned.blocks.raw,
        headRows: pruned.headRows,
        cutoffMs,
        batchSize: batchSize ?? PRUNE_BATCH_SIZE,
        pauseMs: pauseMs ?? PRUNE_PAUSE_MS,
      };
      await Deno.writeTextFile(resultPath, JSON.stringify(report));
    })();
  });
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, resolve);
    }
  });
  await pruning;
  trace?.stop();
  await server.shutdown();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
