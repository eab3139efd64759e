/**
 * Retention under load: a 72 h database of 50 hosts (over 1M rows), 1,000
 * agents sending 2,000 fast samples/s, and the production prune deleting
 * the oldest 24 h inside the server meanwhile. Ack latency during the prune
 * is compared with the target and with the minutes before it.
 */
import { MAX_RETENTION_HOURS } from "../../server/config.ts";
import { openDatabase } from "../../server/store/client.ts";
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { ackCount, timeline, windowStats } from "./load_fleet.ts";
import { runLoad } from "./load_run.ts";
import {
  DEFAULT_INTERVALS,
  preloadDatabase,
  type PreloadSpec,
} from "./preload.ts";
import { totalCpuOver, usageOver } from "./proc_stats.ts";
import type { PruneReport } from "./prune_server.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { loadSampleData } from "./sample_fixtures.ts";
import { startFleetServer } from "./server_process.ts";
import { round } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";

export const RETENTION_TARGETS = {
  p99DuringPruneMs: 500,
  minRows: 1_000_000,
  rssMb: 300,
} as const;

const HOUR = 3_600_000;

interface Plan {
  spec: PreloadSpec;
  connections: number;
  perSecond: number;
  warmupMs: number;
  /** the window before the prune that serves as the baseline */
  baselineMs: number;
  /** load keeps running this long after the prune ends */
  afterMs: number;
  /** the prune must end within this, or the run fails */
  maxPruneMs: number;
}

const FULL: Plan = {
  spec: {
    hosts: 50,
    hours: 72,
    intervals: DEFAULT_INTERVALS,
    hostPrefix: "pve-",
  },
  connections: 1_000,
  perSecond: 2_000,
  warmupMs: 3_000,
  baselineMs: 10_000,
  afterMs: 5_000,
  maxPruneMs: 600_000,
};

const QUICK: Plan = {
  ...FULL,
  spec: { ...FULL.spec, hosts: 5 },
  warmupMs: 1_000,
  baselineMs: 3_000,
  afterMs: 1_000,
};

async function count(dbPath: string, where: string, args: number[] = []) {
  const database = await openDatabase(`file:${dbPath}`);
  try {
    const rs = await database.client.execute({
      sql: `SELECT count(*) AS n FROM metrics WHERE ${where}`,
      args,
    });
    return Number(rs.rows[0].n);
  } finally {
    database.close();
  }
}

const sleep = (ms: number) =>
  new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

async function waitForFile(path: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      return await Deno.readTextFile(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      await sleep(100);
    }
  }
  throw new Error(`no ${path} after ${timeoutMs} ms`);
}

async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true, write: true });
  await file.sync();
}

/** The listed variables of this process's env that are set, to hand on. */
function passThrough(names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((n) => {
      const v = Deno.env.get(n);
      return v === undefined ? [] : [[n, v]];
    }),
  );
}

/** Runs the retention benchmark. */
export async function runRetentionBench(
  opts: { quick: boolean; log: (msg: string) => void },
): Promise<BenchReport> {
  const begun = beginReport();
  const plan = opts.quick ? QUICK : FULL;
  const pre = await preloadDatabase(plan.spec, {
    nowMs: Date.now(),
    log: opts.log,
  });
  return await withWorkDir("retention", opts.log, async (dir) => {
    const dbPath = `${dir}/retention.db`;
    const t = performance.now();
    await Deno.copyFile(pre.path, dbPath);
    // Flush the copy now: otherwise the server's first checkpoint fsync
    // waits for gigabytes of the copy's dirty pages, a stall that is the
    // benchmark's doing, not the server's.
    await syncFile(dbPath);
    opts.log(
      `retention: copied the preload in ${
        ((performance.now() - t) / 1000).toFixed(1)
      } s`,
    );
    // Prune the oldest 24 h of the 72, whenever the cache was built.
    const cutoffMs = pre.endMs - (pre.spec.hours - 24) * HOUR;
    const rowsBefore = await count(dbPath, "1");
    const toDelete = await count(dbPath, "collected_at < ?", [cutoffMs]);
    const hosts = await registerBenchHosts(dbPath, "ingest-", plan.connections);
    const payloadPath = `${dir}/fast.json`;
    await Deno.writeTextFile(
      payloadPath,
      JSON.stringify(await loadSampleData("fast")),
    );
    const resultPath = `${dir}/prune.json`;
    const server = await startFleetServer({
      label: "retention",
      log: opts.log,
      entry: "scripts/bench/prune_server.ts",
      dbPath,
      retentionHours: MAX_RETENTION_HOURS, // its start-up prune is a no-op
      logPath: `${dir}/retention-server.log`,
      env: {
        BENCH_PRUNE_CUTOFF_MS: String(cutoffMs),
        BENCH_PRUNE_RESULT: resultPath,
        ...passThrough([
          "BENCH_PRUNE_BATCH",
          "BENCH_PRUNE_PAUSE",
          "BENCH_TRACE",
        ]),
      },
    });
    let run;
    try {
      run = await runLoad({
        server,
        hosts,
        generators: 2,
        phases: [{
          name: "load",
          mode: "rate",
          perSecond: plan.perSecond,
          durationMs: plan.warmupMs + plan.baselineMs + plan.maxPruneMs +
            plan.afterMs,
        }],
        payloadPath,
        workDir: dir,
        label: "retention",
        drainMs: 15_000,
        log: opts.log,
        onStart: async (atMs, stop) => {
          await sleep(atMs + plan.warmupMs + plan.baselineMs - Date.now());
          opts.log(`retention: pruning ${toDelete} rows under load`);
          Deno.kill(server.pid, "SIGUSR1");
          const report = JSON.parse(
            await waitForFile(resultPath, plan.maxPruneMs),
          ) as PruneReport;
          opts.log(
            `retention: pruned ${report.deleted} rows in ${
              ((report.endMs - report.startMs) / 1000).toFixed(1)
            } s`,
          );
          await sleep(plan.afterMs);
          await stop();
          return report;
        },
      });
    } finally {
      await server.stop();
    }
    const prune = run.onStartResult as PruneReport;
    const rowsAfter = await count(dbPath, "1");
    const leftOld = await count(dbPath, "collected_at < ?", [cutoffMs]);
    const acks = ackCount(run.result);

    const rel = (ms: number) => ms - run.atMs;
    const baseline = windowStats(
      run.result,
      plan.warmupMs,
      plan.warmupMs + plan.baselineMs,
    );
    const during = windowStats(
      run.result,
      rel(prune.startMs),
      rel(prune.endMs),
    );
    const pruneS = (prune.endMs - prune.startMs) / 1000;
    const use = usageOver(
      run.sampler.between(prune.startMs, prune.endMs + 1000),
    );
    const figures: Figure[] = [
      targetFigure(
        "ack p99 during prune",
        during.latencyMs.p99,
        "ms",
        "<=",
        RETENTION_TARGETS.p99DuringPruneMs,
      ),
      baselineFigure(
        "ack p99 during prune vs before",
        during.latencyMs.p99,
        "ms",
        "info",
        { label: "p99 before the prune", value: baseline.latencyMs.p99 ?? 0 },
      ),
      targetFigure(
        "ack p50 during prune",
        during.latencyMs.p50,
        "ms",
        "<=",
        RETENTION_TARGETS.p99DuringPruneMs,
        "judged against the p99 target",
      ),
      baselineFigure(
        "acked/s during prune",
        during.ackedPerSecond,
        "samples/s",
        ">=",
        { label: "offered", value: plan.perSecond * 0.98 },
        "passes at 98 % of the offered rate or more",
      ),
      baselineFigure(
        "prune duration",
        pruneS,
        "s",
        "<=",
        { label: "the hourly retention interval", value: 3600 },
        `${prune.deleted} rows, ${
          Math.round(prune.deleted / Math.max(pruneS, 0.001))
        } rows/s`,
      ),
      baselineFigure(
        "rows pruned",
        prune.deleted,
        "rows",
        ">=",
        { label: "rows older than the cutoff", value: toDelete },
        `${leftOld} rows older than the cutoff left`,
      ),
      targetFigure(
        "database rows before",
        rowsBefore,
        "rows",
        opts.quick ? "info" : ">=",
        RETENTION_TARGETS.minRows,
      ),
      targetFigure(
        "server peak RSS during prune",
        use.peakRssMb,
        "MB",
        "<=",
        RETENTION_TARGETS.rssMb,
      ),
      baselineFigure(
        "rows after",
        rowsAfter,
        "rows",
        ">=",
        {
          label: "before - pruned + acked",
          value: rowsBefore - prune.deleted + acks,
        },
      ),
    ];
    const deviations = opts.quick
      ? [`--quick: ${plan.spec.hosts} hosts x 72 h (not 50, so under 1M rows)`]
      : [];
    return finishReport(begun, {
      bench: "retention",
      quick: opts.quick,
      deviations,
      figures,
      details: {
        preload: { path: pre.path, rows: pre.rows, fileBytes: pre.fileBytes },
        cutoff: new Date(cutoffMs).toISOString(),
        prune: { ...prune, durationS: round(pruneS, 2) },
        baseline,
        during,
        timelineAroundPrune: timeline(
          run.result,
          rel(prune.startMs) - 1000,
          rel(prune.endMs) + plan.afterMs,
          250,
        ),
        serverCpuPercentDuringPrune: round(use.cpuPercent),
        generatorsCpuPercent: {
          baseline: round(totalCpuOver(
            run.generatorSamplers,
            run.atMs + plan.warmupMs,
            run.atMs + plan.warmupMs + plan.baselineMs,
          )),
          duringPrune: round(
            totalCpuOver(run.generatorSamplers, prune.startMs, prune.endMs),
          ),
        },
        serverCpuPercentBaseline: round(
          usageOver(run.sampler.between(
            run.atMs + plan.warmupMs,
            run.atMs + plan.warmupMs + plan.baselineMs,
          )).cpuPercent,
        ),
        acks,
        nacks: run.result.nacks,
        closedEarly: run.result.closedEarly,
        errors: run.result.errors,
      },
      headline: [figures[0], figures[4], figures[5], figures[6]],
    });
  });
}
