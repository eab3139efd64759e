/**
 * Ingest: 1,000 agent connections, each joined with its own token, send fast
 * samples built from the real fixture at 2,100/s for 60 s, then as fast as
 * the server acks them. Runs once per WebSocket adapter on a fresh database
 * and says which adapter is faster.
 */
import { SERVER_DEFAULTS } from "../../server/config.ts";
import { openDatabase } from "../../server/store/client.ts";
import { storedSampleCounts } from "../../server/store/sample_count.ts";
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import {
  ackCount,
  timeline,
  type TimelineStep,
  type WindowStats,
  windowStats,
} from "./load_fleet.ts";
import { type Phase, WARMUP_MS, warmupAndSustain } from "./load_plan.ts";
import { runLoad } from "./load_run.ts";
import { totalCpuOver, usageOver } from "./proc_stats.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { loadSampleData } from "./sample_fixtures.ts";
import { startFleetServer } from "./server_process.ts";
import { round } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";

export type Adapter = "deno" | "node";

export interface IngestOptions {
  quick: boolean;
  adapters: Adapter[];
  log: (msg: string) => void;
}

export const INGEST_TARGETS = {
  ackedPerSecond: 2_000,
  p99Ms: 250,
  rssMb: 300,
} as const;

/**
 * Offered 5 % above the target: a server that keeps up then acks at least
 * the target rate, instead of landing on it give or take edge effects.
 */
export const OFFERED_PER_SECOND = Math.round(
  INGEST_TARGETS.ackedPerSecond * 1.05,
);

interface Plan {
  connections: number;
  generators: number;
  warmupMs: number;
  sustainMs: number;
  /** nothing sent, so the last sustained samples are not queued behind the ceiling's burst */
  settleMs: number;
  saturateMs: number;
  inFlight: number;
  drainMs: number;
}

const FULL: Plan = {
  connections: 1_000,
  generators: 2,
  warmupMs: WARMUP_MS.full,
  sustainMs: 60_000,
  settleMs: 3_000,
  saturateMs: 10_000,
  inFlight: 2,
  drainMs: 15_000,
};

const QUICK: Plan = {
  ...FULL,
  warmupMs: WARMUP_MS.quick,
  settleMs: 2_000,
  sustainMs: 5_000,
  saturateMs: 2_000,
  drainMs: 5_000,
};

interface AdapterRun {
  adapter: Adapter;
  joined: number;
  /** the warm-up: the new hosts' first samples and the backlog they leave */
  coldStart: WindowStats;
  /** seconds into the run after which every second of the warm-up met the p99 target */
  coldStartClearedS: number | null;
  sustained: WindowStats;
  saturated: WindowStats;
  /** per second of the whole plan, to place a stall */
  timeline: TimelineStep[];
  acks: number;
  rows: number;
  nacks: number;
  throttled: number;
  closedEarly: number;
  peakRssMb: number | null;
  cpuPercentSustained: number | null;
  cpuPercentSaturated: number | null;
  /** the generators' CPU, summed, while offering: a starved generator inflates latency */
  generatorsCpuPercentSustained: number | null;
  errors: string[];
  frameBytes: number;
}

async function runAdapter(
  adapter: Adapter,
  plan: Plan,
  dir: string,
  payloadPath: string,
  log: (msg: string) => void,
): Promise<AdapterRun> {
  const dbPath = `${dir}/ingest-${adapter}.db`;
  const hosts = await registerBenchHosts(dbPath, "ingest-", plan.connections);
  const server = await startFleetServer({
    label: `ingest/${adapter}`,
    log,
    dbPath,
    adapter,
    logPath: `${dir}/ingest-${adapter}-server.log`,
  });
  const phases: Phase[] = [
    ...warmupAndSustain(plan, OFFERED_PER_SECOND),
    { name: "settle", mode: "rate", durationMs: plan.settleMs, perSecond: 0 },
    {
      name: "saturate",
      mode: "window",
      durationMs: plan.saturateMs,
      inFlight: plan.inFlight,
    },
  ];
  let run;
  try {
    run = await runLoad({
      server,
      hosts,
      generators: plan.generators,
      phases,
      payloadPath,
      workDir: dir,
      label: `ingest-${adapter}`,
      drainMs: plan.drainMs,
      log,
    });
  } finally {
    await server.stop();
  }
  const database = await openDatabase(`file:${dbPath}`);
  // head rows or, compacted at the server's stop, raw blocks
  const rows = (await storedSampleCounts(database)).fast;
  database.close();

  const s0 = plan.warmupMs, s1 = s0 + plan.sustainMs;
  const sat = s1 + plan.settleMs, s2 = sat + plan.saturateMs;
  const epoch = (rel: number) => run.atMs + rel;
  const sustainedUse = usageOver(run.sampler.between(epoch(s0), epoch(s1)));
  const saturatedUse = usageOver(run.sampler.between(epoch(sat), epoch(s2)));
  const steps = timeline(run.result, 0, s2, 1000);
  const whole = usageOver(run.sampler.readings);
  return {
    adapter,
    joined: run.ready.reduce((a, r) => a + r.joined, 0),
    coldStart: windowStats(run.result, 0, s0),
    coldStartClearedS: clearedAfterS(steps, s0, INGEST_TARGETS.p99Ms),
    sustained: windowStats(run.result, s0, s1),
    saturated: windowStats(run.result, sat, s2),
    timeline: steps,
    acks: ackCount(run.result),
    rows,
    nacks: run.result.nacks,
    throttled: run.result.throttled,
    closedEarly: run.result.closedEarly,
    peakRssMb: whole.peakRssMb,
    cpuPercentSustained: sustainedUse.cpuPercent,
    cpuPercentSaturated: saturatedUse.cpuPercent,
    generatorsCpuPercentSustained: totalCpuOver(
      run.generatorSamplers,
      epoch(s0),
      epoch(s1),
    ),
    errors: run.result.errors,
    frameBytes: run.result.frameBytes,
  };
}

/**
 * The end of the first second after which every second before `untilMs`
 * had its ack p99 within `p99Ms`; null if the last one did not.
 */
export function clearedAfterS(
  steps: TimelineStep[],
  untilMs: number,
  p99Ms: number,
): number | null {
  const within = steps.filter((s) => s.atMs < untilMs);
  let last = -1;
  within.forEach((s, i) => {
    if (s.p99Ms !== null && s.p99Ms > p99Ms) last = i;
  });
  if (last === within.length - 1) return null;
  return (within[last + 1]?.atMs ?? 0) / 1000;
}

function adapterFigures(r: AdapterRun): Figure[] {
  const a = r.adapter;
  return [
    targetFigure(
      `${a} acked/s sustained`,
      r.sustained.ackedPerSecond,
      "samples/s",
      ">=",
      INGEST_TARGETS.ackedPerSecond,
    ),
    // both against the p99 target: the median says how far under it a run is
    ...(["p99", "p50"] as const).map((p) =>
      targetFigure(
        `${a} ack ${p}`,
        r.sustained.latencyMs[p],
        "ms",
        "<=",
        INGEST_TARGETS.p99Ms,
        p === "p99" ? undefined : "judged against the p99 target",
      )
    ),
    targetFigure(
      `${a} server peak RSS`,
      r.peakRssMb,
      "MB",
      "<=",
      INGEST_TARGETS.rssMb,
    ),
    baselineFigure(
      `${a} server CPU at ${OFFERED_PER_SECOND}/s`,
      r.cpuPercentSustained,
      "% of a core",
      "<=",
      { label: "the machine's 200 % (2 cores)", value: 200 },
    ),
    baselineFigure(
      `${a} rows stored`,
      r.rows,
      "rows",
      ">=",
      { label: "acks received", value: r.acks },
      `${r.acks - r.rows} acked samples missing from the database`,
    ),
    baselineFigure(
      `${a} cold start ack p99`,
      r.coldStart.latencyMs.p99,
      "ms",
      "info",
      { label: "the p99 target", value: INGEST_TARGETS.p99Ms },
      `the warm-up, ${r.coldStart.sent} samples: ${r.joined} hosts new to the server, each one's first sample creating its series; ${
        r.coldStartClearedS === null
          ? "the backlog was not cleared within the warm-up"
          : `every second from ${r.coldStartClearedS} s on within the target`
      }`,
    ),
    targetFigure(
      `${a} ceiling acked/s`,
      r.saturated.ackedPerSecond,
      "samples/s",
      ">=",
      INGEST_TARGETS.ackedPerSecond,
      `closed loop, ${r.saturated.sent} sent, each connection keeps samples in flight`,
    ),
  ];
}

/**
 * The targets are for the server as it ships, on the default adapter; the
 * other adapter's figures keep their ratios but do not pass or fail, except
 * that no acked sample may be missing on either.
 */
function notJudged(f: Figure): Figure {
  if (f.name.endsWith(" rows stored")) return f;
  const note = "not the default adapter: reported, not judged";
  return { ...f, pass: null, note: f.note ? `${f.note}; ${note}` : note };
}

/** The faster adapter: higher ceiling, or lower CPU when within 5 %. */
export function fasterAdapter(
  runs: AdapterRun[],
): { adapter: Adapter; why: string } | null {
  if (runs.length < 2) return null;
  const [x, y] = runs;
  const cx = x.saturated.ackedPerSecond, cy = y.saturated.ackedPerSecond;
  if (Math.abs(cx - cy) > 0.05 * Math.max(cx, cy)) {
    const w = cx > cy ? x : y, l = cx > cy ? y : x;
    return {
      adapter: w.adapter,
      why: `ceiling ${Math.round(w.saturated.ackedPerSecond)} vs ${
        Math.round(l.saturated.ackedPerSecond)
      } acked/s`,
    };
  }
  const ux = x.cpuPercentSustained ?? Infinity;
  const uy = y.cpuPercentSustained ?? Infinity;
  const w = ux <= uy ? x : y, l = ux <= uy ? y : x;
  return {
    adapter: w.adapter,
    why: `ceilings within 5 %; CPU at ${OFFERED_PER_SECOND}/s ${
      round(w.cpuPercentSustained)
    } % vs ${round(l.cpuPercentSustained)} %`,
  };
}

/** Runs the ingest benchmark for each adapter. */
export async function runIngestBench(
  opts: IngestOptions,
): Promise<BenchReport> {
  const begun = beginReport();
  const plan = opts.quick ? QUICK : FULL;
  return await withWorkDir("ingest", opts.log, async (dir) => {
    const payloadPath = `${dir}/fast.json`;
    await Deno.writeTextFile(
      payloadPath,
      JSON.stringify(await loadSampleData("fast")),
    );
    const runs: AdapterRun[] = [];
    for (const adapter of opts.adapters) {
      runs.push(await runAdapter(adapter, plan, dir, payloadPath, opts.log));
    }
    const figures = runs.flatMap((r) =>
      r.adapter === SERVER_DEFAULTS.WS_ADAPTER
        ? adapterFigures(r)
        : adapterFigures(r).map(notJudged)
    );
    const faster = fasterAdapter(runs);
    const byDefault = runs.find((r) =>
      r.adapter === SERVER_DEFAULTS.WS_ADAPTER
    );
    const other = runs.find((r) => r !== byDefault);
    if (faster && byDefault && other) {
      // The issue's rule: the faster adapter is the default.
      const ceiling = byDefault.saturated.ackedPerSecond;
      const otherCeiling = other.saturated.ackedPerSecond;
      figures.push({
        ...baselineFigure(
          `default adapter (${byDefault.adapter}) ceiling vs ${other.adapter}`,
          ceiling,
          "samples/s",
          "info",
          { label: `${other.adapter} ceiling`, value: otherCeiling },
          `faster: ${faster.adapter} (${faster.why})`,
        ),
        goal: ">=",
        pass: faster.adapter === byDefault.adapter,
      });
    }
    const deviations = opts.quick
      ? [
        `--quick: ${plan.sustainMs / 1000} s sustained instead of 60 s, ${
          plan.saturateMs / 1000
        } s ceiling phase`,
      ]
      : [];
    const headline = figures.filter((f) =>
      / (acked\/s sustained|ack p99|peak RSS|rows stored)$/.test(f.name)
    );
    return finishReport(begun, {
      bench: "ingest",
      quick: opts.quick,
      deviations,
      figures,
      details: {
        connections: plan.connections,
        generatorProcesses: plan.generators,
        offeredPerSecond: OFFERED_PER_SECOND,
        frameBytes: runs[0]?.frameBytes,
        faster,
        runs: runs.map((r) => ({
          ...r,
          sustained: { ...r.sustained },
          saturated: { ...r.saturated },
        })),
      },
      headline,
      extra: faster
        ? `frame ${
          runs[0].frameBytes
        } B; faster: ${faster.adapter} (${faster.why})`
        : `frame ${runs[0]?.frameBytes} B`,
    });
  });
}
