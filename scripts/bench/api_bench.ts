/**
 * API latency: a series store preloaded with 48 h of 50 hosts at the
 * default intervals (raw blocks, rollups and the open window's head rows,
 * as a server holds them), a server on a copy of it, and a client process that requests
 * the host list, host details and 48 h CPU histories one at a time. Then a
 * second server on a fleet of 100 hosts x 50 guests answers `/metrics`
 * scrapes with an API token, one at a time.
 */
import { MAX_RETENTION_HOURS } from "../../server/config.ts";
import type { ApiClientPlan, ApiRoundResult } from "./api_client.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { spawnJsonLineChild } from "./lines.ts";
import {
  DEFAULT_INTERVALS,
  preloadDatabase,
  type PreloadSpec,
} from "./preload.ts";
import { ProcSampler, usageOver } from "./proc_stats.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { startServer } from "./server_process.ts";
import { type Distribution, distribution, round } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";
import { buildMetricsFleet } from "./metrics_fleet.ts";
import { startFeeder } from "./metrics_feeder.ts";

export const API_TARGETS = {
  hostP99Ms: 10,
  listP99Ms: 20,
  historyMs: 50,
  metricsP99Ms: 50,
} as const;

/**
 * The changing round stores a sample this often: about as often as the
 * scrapes come (one every 10-20 ms here), so most scrapes find the fleet
 * changed, as one every 15 s does in use; and 50 a second of a 50-guest
 * host is five times what a 100-host fleet stores at the fast interval.
 * (Every 5 ms, the server's ingest of the samples took the tail: p99 129
 * ms over 200 scrapes at load 2.)
 */
const FEED_EVERY_MS = 20;

/** Points per history request: the dashboard asks for its width, at most 1000. */
export const HISTORY_POINTS = 1000;

interface Plan {
  spec: PreloadSpec;
  hostRequests: number;
  listRequests: number;
  historyRequests: number;
  metrics: { hosts: number; guests: number; requests: number };
}

const FULL: Plan = {
  spec: {
    hosts: 50,
    hours: 48,
    intervals: DEFAULT_INTERVALS,
    hostPrefix: "pve-",
  },
  hostRequests: 1_000,
  listRequests: 500,
  historyRequests: 200,
  metrics: { hosts: 100, guests: 50, requests: 200 },
};

const QUICK: Plan = {
  spec: {
    hosts: 10,
    hours: 12,
    intervals: DEFAULT_INTERVALS,
    hostPrefix: "pve-",
  },
  hostRequests: 200,
  listRequests: 100,
  historyRequests: 40,
  metrics: { hosts: 100, guests: 50, requests: 40 },
};

/** The history query the dashboard makes for a 48 h CPU chart. */
export function historyPath(
  host: string,
  metric: string,
  fromMs: number,
  toMs: number,
  points: number,
): string {
  return `/api/hosts/${
    encodeURIComponent(host)
  }/history?metric=${metric}&from=${new Date(fromMs).toISOString()}&to=${
    new Date(toMs).toISOString()
  }&points=${points}`;
}

async function runClient(plan: ApiClientPlan, logPath: string) {
  const client = await spawnJsonLineChild(
    "scripts/bench/api_client.ts",
    plan,
    logPath,
  );
  await client.stdin.close();
  const out = await client.events.next();
  const status = await client.child.status;
  await client.logged;
  if (out.done || !status.success) {
    throw new Error(`api client failed (exit ${status.code}), see ${logPath}`);
  }
  return JSON.parse(out.value) as ApiRoundResult[];
}

/** `/metrics` on its own server over a fleet of hosts x guests. */
async function runMetricsRound(
  spec: Plan["metrics"],
  dir: string,
  log: (msg: string) => void,
): Promise<ApiRoundResult[]> {
  const dbPath = `${dir}/metrics.db`;
  const fleet = await buildMetricsFleet(dbPath, { ...spec, nowMs: Date.now() });
  log(`api: /metrics over ${spec.hosts} hosts x ${spec.guests} guests`);
  const server = await startServer({
    dbPath,
    retentionHours: MAX_RETENTION_HOURS, // nothing preloaded is pruned
    logPath: `${dir}/metrics-server.log`,
  });
  const round = (label: string) => ({
    baseUrl: server.baseUrl,
    rounds: [{
      label,
      paths: cycle(["/metrics"], spec.requests + 10),
      warmup: 10,
      headers: { Authorization: `Bearer ${fleet.token}` },
      pooled: true,
    }],
  });
  try {
    // Scrapes of a fleet that does not change between them, then of one
    // that does (a sample of one host stored before nearly every scrape).
    const still = await runClient(
      round("metrics"),
      `${dir}/metrics-client.log`,
    );
    const feeder = await startFeeder(
      server.wsUrl,
      fleet.agent.host,
      fleet.agent.fast,
      FEED_EVERY_MS,
    );
    const changing = await runClient(
      round("metrics-changing"),
      `${dir}/metrics-changing-client.log`,
    );
    const fed = await feeder.stop();
    log(
      `api: /metrics while changing: ${fed.sent} samples sent, ${fed.acked} acked`,
    );
    return [...still, ...changing];
  } finally {
    await server.stop();
  }
}

function metricsFigures(
  plan: Plan,
  metrics: Distribution,
  changing: Distribution,
): Figure[] {
  return [
    targetFigure(
      "GET /metrics p99",
      metrics.p99,
      "ms",
      "<=",
      API_TARGETS.metricsP99Ms,
      `${plan.metrics.hosts} hosts x ${plan.metrics.guests} guests, API token`,
    ),
    targetFigure(
      "GET /metrics p50",
      metrics.p50,
      "ms",
      "<=",
      API_TARGETS.metricsP99Ms,
      "judged against the p99 target",
    ),
    targetFigure(
      "GET /metrics p99, the fleet changing between scrapes",
      changing.p99,
      "ms",
      "<=",
      API_TARGETS.metricsP99Ms,
      `one host's fast sample stored every ${FEED_EVERY_MS} ms while scraping: its lines are rendered and the fleet's joined again`,
    ),
    targetFigure(
      "GET /metrics p50, the fleet changing between scrapes",
      changing.p50,
      "ms",
      "<=",
      API_TARGETS.metricsP99Ms,
      "judged against the p99 target",
    ),
  ];
}

async function metricsOnly(
  plan: Plan,
  begun: ReturnType<typeof beginReport>,
  opts: { quick: boolean; log: (msg: string) => void },
): Promise<BenchReport> {
  return await withWorkDir("api", opts.log, async (dir) => {
    const [result, changingResult] = await runMetricsRound(
      plan.metrics,
      dir,
      opts.log,
    );
    const metrics = distribution(result.latenciesMs);
    const changing = distribution(changingResult.latenciesMs);
    const figures = metricsFigures(plan, metrics, changing);
    return finishReport(begun, {
      bench: "api",
      quick: opts.quick,
      deviations: ["BENCH_API_ROUNDS=metrics: the /metrics round only"],
      figures,
      details: {
        latencyMs: { metrics, metricsChanging: changing },
        responseBytes: { metrics: result.meanBytes },
        failures: [...result.failures, ...changingResult.failures],
      },
      headline: figures,
    });
  });
}

const cycle = <T>(xs: T[], n: number): T[] =>
  Array.from({ length: n }, (_, i) => xs[i % xs.length]);

/** Runs the API benchmark. */
export async function runApiBench(
  opts: { quick: boolean; log: (msg: string) => void },
): Promise<BenchReport> {
  const begun = beginReport();
  const plan = opts.quick ? QUICK : FULL;
  // BENCH_API_ROUNDS=metrics: only the /metrics round (its own small
  // database), e.g. while the 48 h preload is being rebuilt.
  if (Deno.env.get("BENCH_API_ROUNDS") === "metrics") {
    return await metricsOnly(plan, begun, opts);
  }
  const pre = await preloadDatabase(plan.spec, {
    nowMs: Date.now(),
    log: opts.log,
  });
  return await withWorkDir("api", opts.log, async (dir) => {
    const dbPath = `${dir}/api.db`;
    await Deno.copyFile(pre.path, dbPath);
    const server = await startServer({
      dbPath,
      retentionHours: MAX_RETENTION_HOURS, // nothing preloaded is pruned
      logPath: `${dir}/api-server.log`,
    });
    const sampler = new ProcSampler(server.pid, 1000, () => Date.now());
    sampler.start();
    let results: ApiRoundResult[];
    try {
      const names = pre.hostNames;
      const from = pre.endMs - pre.spec.hours * 3_600_000;
      results = await runClient({
        baseUrl: server.baseUrl,
        rounds: [
          {
            label: "host",
            paths: cycle(names, plan.hostRequests + 20).map((n) =>
              `/api/hosts/${n}`
            ),
            warmup: 20,
          },
          {
            label: "list",
            paths: cycle(["/api/hosts"], plan.listRequests + 20),
            warmup: 20,
          },
          {
            label: "history",
            paths: cycle(names, plan.historyRequests + 5).map((n) =>
              historyPath(n, "cpu", from, pre.endMs + 1, HISTORY_POINTS)
            ),
            warmup: 5,
          },
        ],
      }, `${dir}/api-client.log`);
    } finally {
      await sampler.stop();
      await server.stop();
    }
    results.push(
      ...await runMetricsRound(plan.metrics, dir, opts.log),
    );
    const byLabel = new Map(results.map((r) => [r.label, r]));
    const dist = (l: string) => distribution(byLabel.get(l)!.latenciesMs);
    const host = dist("host"), list = dist("list"), history = dist("history");
    const metrics = dist("metrics");
    const metricsChanging = dist("metrics-changing");
    const days = pre.spec.hours / 24;
    const perHostDay = pre.fileBytes / pre.spec.hosts / days;
    const rawPerHostDay = pre.payloadBytes / pre.spec.hosts / days;
    const use = usageOver(sampler.readings);
    const figures: Figure[] = [
      targetFigure(
        "GET /api/hosts/:name p99",
        host.p99,
        "ms",
        "<=",
        API_TARGETS.hostP99Ms,
      ),
      targetFigure(
        "GET /api/hosts p99",
        list.p99,
        "ms",
        "<=",
        API_TARGETS.listP99Ms,
      ),
      targetFigure(
        `${pre.spec.hours} h CPU history p99`,
        history.p99,
        "ms",
        "<=",
        API_TARGETS.historyMs,
        `${pre.spec.hours} h window, ${HISTORY_POINTS} points`,
      ),
      targetFigure(
        "GET /api/hosts/:name p50",
        host.p50,
        "ms",
        "<=",
        API_TARGETS.hostP99Ms,
        "judged against the p99 target",
      ),
      targetFigure(
        "GET /api/hosts p50",
        list.p50,
        "ms",
        "<=",
        API_TARGETS.listP99Ms,
        "judged against the p99 target",
      ),
      targetFigure(
        `${pre.spec.hours} h CPU history p50`,
        history.p50,
        "ms",
        "<=",
        API_TARGETS.historyMs,
      ),
      ...metricsFigures(plan, metrics, metricsChanging),
      baselineFigure(
        "series store file per host per day",
        perHostDay / 2 ** 20,
        "MiB",
        "info",
        {
          label: "the samples' JSON payload bytes",
          value: rawPerHostDay / 2 ** 20,
        },
        `the whole file (raw blocks, rollups, head, state) against the payloads the agents would have sent; ${pre.store.blocks.raw} raw blocks, ${
          pre.store.blocks["1m"]
        } 1-minute, ${pre.store.headRows} head rows`,
      ),
    ];
    const failures = results.flatMap((r) => r.failures);
    const deviations = opts.quick
      ? [
        `--quick: ${plan.spec.hosts} hosts x ${plan.spec.hours} h (not 50 x 48 h), fewer requests`,
      ]
      : [];
    return finishReport(begun, {
      bench: "api",
      quick: opts.quick,
      deviations,
      figures,
      details: {
        preload: {
          ...pre,
          samplesTotal: pre.generated.fast + pre.generated.medium +
            pre.generated.slow,
          fileMiB: round(pre.fileBytes / 2 ** 20),
        },
        latencyMs: { host, list, history, metrics, metricsChanging },
        responseBytes: Object.fromEntries(
          results.map((r) => [r.label, r.meanBytes]),
        ),
        serverPeakRssMb: round(use.peakRssMb),
        failures,
      },
      headline: [figures[0], figures[1], figures[2], figures[6], figures[8]],
      extra: failures.length ? `${failures.length} failed requests` : undefined,
    });
  });
}
