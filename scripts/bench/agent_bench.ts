/**
 * Agent footprint: a simulated PVE node with 50 guests whose pvesh takes
 * 300 ms a call (scripts/fake_node/profiles/bench50.toml).
 *
 * 1. Cycle time: a separate process builds the agent's real collectors
 *    (`createCollectors` with `denoRunner`, as agent/main.ts
 *    does) and times fast, medium and slow cycles one at a time.
 * 2. Soak: the real agent, bundled and run with the compiled binary's flags
 *    (see agentCommand), runs at a 1 s fast interval against a real server;
 *    its RSS and CPU are read from /proc and its cycles counted from the rows
 *    the server stored.
 *
 * Knobs (all optional): BENCH_AGENT_SOAK_S (soak length), BENCH_AGENT_BIN (a
 * compiled agent), BENCH_AGENT_ENTRY (e.g. agent/main.ts),
 * BENCH_AGENT_V8_FLAGS (replaces the binary's; "" for none),
 * BENCH_AGENT_MALLOC_ARENA_MAX.
 */
import type { Interval } from "@proxmon/shared";
import { openDatabase } from "../../server/store/client.ts";
import {
  AGENT_PERMISSIONS,
  AGENT_V8_FLAGS,
  bundleArgs,
  bundleRunFlags,
  deno,
  v8FlagsArg,
} from "../../agent/build.ts";
import { startSimulatedNode } from "../smoke/stack.ts";
import { spawnProc } from "../smoke/process.ts";
import type { CyclePlan, CycleTiming } from "./agent_cycles.ts";
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { REPO_ROOT } from "./paths.ts";
import { ProcSampler } from "./proc_stats.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { freePort, startServer } from "./server_process.ts";
import { distribution, round, slope } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";

export const AGENT_TARGETS = {
  fastCycleMs: 2_000,
  mediumCycleMs: 5_000,
  rssMb: 60,
  /** "no upward trend": less than 1 MB of growth per 10 minutes */
  rssSlopeMbPerHour: 6,
} as const;

const PROFILE = `${REPO_ROOT}/scripts/fake_node/profiles/bench50.toml`;

interface Plan {
  cycles: Record<Interval, number>;
  soakMs: number;
  /** RSS readings before this are start-up, left out of the slope */
  settleMs: number;
  sampleEveryMs: number;
}

const FULL: Plan = {
  cycles: { fast: 10, medium: 5, slow: 2 },
  soakMs: 600_000,
  settleMs: 60_000,
  sampleEveryMs: 5_000,
};

const QUICK: Plan = {
  cycles: { fast: 3, medium: 2, slow: 1 },
  soakMs: 10_000,
  settleMs: 3_000,
  sampleEveryMs: 500,
};

async function timeCycles(
  plan: CyclePlan,
  env: Record<string, string>,
): Promise<
  { timings: CycleTiming[]; firstErrors: string[]; concurrency: number }
> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/bench/agent_cycles.ts", JSON.stringify(plan)],
    cwd: REPO_ROOT,
    env,
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(
      `agent_cycles failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function agentToml(o: {
  url: string;
  host: string;
  token: string;
  node: string;
  procDir: string;
  outboxPath: string;
}): string {
  return [
    `server_url = ${JSON.stringify(o.url)}`,
    `host_id = ${JSON.stringify(o.host)}`,
    `token = ${JSON.stringify(o.token)}`,
    `node = ${JSON.stringify(o.node)}`,
    `proc_dir = ${JSON.stringify(o.procDir)}`,
    `outbox_path = ${JSON.stringify(o.outboxPath)}`,
    "",
    "[intervals]",
    "fast_seconds = 1",
    "medium_seconds = 60",
    "slow_seconds = 1800",
    "",
  ].join("\n");
}

interface Soak {
  readings: {
    atMs: number;
    rssMb: number;
    rssAnonMb: number | null;
    cpuMs: number;
    childCpuMs: number;
  }[];
  startMs: number;
  endMs: number;
  stored: Record<Interval, number>;
  skippedWarnings: number;
  logTail: string;
  /** what ran, for the report */
  command: string;
}

/**
 * What the soak runs: by default the bundle with the flags the compiled
 * binary gets (the nearest thing to the binary that runs here; `deno compile`
 * needs to download its runtime). BENCH_AGENT_BIN runs a compiled binary
 * instead, BENCH_AGENT_ENTRY a script such as agent/main.ts, and
 * BENCH_AGENT_V8_FLAGS replaces the V8 flags.
 */
async function agentCommand(
  dir: string,
): Promise<{ command: string; args: string[]; label: string }> {
  const bin = Deno.env.get("BENCH_AGENT_BIN");
  if (bin) return { command: bin, args: [], label: bin };
  const v8 = Deno.env.get("BENCH_AGENT_V8_FLAGS");
  const v8Flags = v8 === undefined
    ? AGENT_V8_FLAGS
    : v8.split(",").filter((f) => f);
  const entry = Deno.env.get("BENCH_AGENT_ENTRY");
  if (entry) {
    const args = [
      "run",
      ...AGENT_PERMISSIONS,
      ...v8FlagsArg(v8Flags),
      entry,
    ];
    return { command: Deno.execPath(), args, label: args.join(" ") };
  }
  const bundle = `${dir}/proxmon-agent.js`;
  await deno(bundleArgs(bundle), REPO_ROOT);
  const args = ["run", ...bundleRunFlags(v8Flags), bundle];
  return {
    command: Deno.execPath(),
    args,
    label: `deno ${args.join(" ")}`,
  };
}

async function soak(
  plan: Plan,
  dir: string,
  node: Awaited<ReturnType<typeof startSimulatedNode>>,
  log: (msg: string) => void,
): Promise<Soak> {
  const dbPath = `${dir}/agent.db`;
  const [host] = await registerBenchHosts(dbPath, "agent-", 1, Date.now());
  const server = await startServer({
    dbPath,
    port: freePort(),
    logPath: `${dir}/agent-server.log`,
  });
  const configPath = `${dir}/agent.toml`;
  await Deno.writeTextFile(
    configPath,
    agentToml({
      url: server.wsUrl,
      host: host.name,
      token: host.token,
      node: node.model.node,
      procDir: node.procDir,
      outboxPath: `${dir}/outbox.json`,
    }),
  );
  let skippedWarnings = 0;
  const how = await agentCommand(dir);
  log(`agent: soak runs ${how.label}`);
  // For trying glibc's arenas: BENCH_AGENT_MALLOC_ARENA_MAX=2
  const mallocArenas = Deno.env.get("BENCH_AGENT_MALLOC_ARENA_MAX");
  const agent = spawnProc("agent", how.command, {
    args: [...how.args, "--config", configPath],
    env: {
      HOME: Deno.env.get("HOME") ?? "/tmp",
      ...node.env,
      ...(mallocArenas ? { MALLOC_ARENA_MAX: mallocArenas } : {}),
      // The deno CLI checks for updates in the background (2-3 MB of RSS);
      // the compiled binary's runtime has no such check.
      DENO_NO_UPDATE_CHECK: "1",
    },
    cwd: REPO_ROOT,
    onLine: (line) => {
      if (line.includes("skipped this tick")) skippedWarnings++;
    },
  });
  const sampler = new ProcSampler(
    agent.pid,
    plan.sampleEveryMs,
    () => Date.now(),
  );
  const startMs = Date.now();
  sampler.start();
  log(
    `agent: soaking pid ${agent.pid} for ${
      plan.soakMs / 1000
    } s at a 1 s fast interval`,
  );
  try {
    await new Promise((r) => setTimeout(r, plan.soakMs));
    await sampler.stop();
    // A dead agent has no RSS to speak of; its figures would read as a pass.
    if (agent.exited()) {
      throw new Error(
        `agent exited during the soak (${
          JSON.stringify(await agent.status)
        }):\n${agent.tail(20)}`,
      );
    }
  } finally {
    await sampler.stop();
    await agent.stop({ graceMs: 10_000 });
    await server.stop();
  }
  const endMs = sampler.readings.at(-1)?.atMs ?? Date.now();
  const database = await openDatabase(`file:${dbPath}`);
  const stored: Record<Interval, number> = { fast: 0, medium: 0, slow: 0 };
  try {
    const rs = await database.client.execute({
      sql:
        "SELECT interval_type AS i, count(*) AS n FROM series_head WHERE collected_at <= ? GROUP BY interval_type",
      args: [endMs],
    });
    for (const r of rs.rows) stored[r.i as Interval] = Number(r.n);
  } finally {
    database.close();
  }
  return {
    readings: sampler.readings.map((r) => ({
      atMs: r.atMs,
      rssMb: r.rssBytes / 2 ** 20,
      rssAnonMb: r.rssAnonBytes === null ? null : r.rssAnonBytes / 2 ** 20,
      cpuMs: r.cpuMs,
      childCpuMs: r.childCpuMs,
    })),
    startMs,
    endMs,
    stored,
    skippedWarnings,
    logTail: agent.tail(20),
    command: how.label,
  };
}

const wallOf = (ts: CycleTiming[], i: Interval) =>
  distribution(ts.filter((t) => t.interval === i).map((t) => t.wallMs));
const cpuOf = (ts: CycleTiming[], i: Interval) =>
  distribution(ts.filter((t) => t.interval === i).map((t) => t.cpuMs));

/** Runs the agent benchmark. */
export async function runAgentBench(
  opts: { quick: boolean; log: (msg: string) => void },
): Promise<BenchReport> {
  const begun = beginReport();
  const soakOverride = Deno.env.get("BENCH_AGENT_SOAK_S");
  const plan = {
    ...(opts.quick ? QUICK : FULL),
    ...(soakOverride ? { soakMs: Number(soakOverride) * 1000 } : {}),
  };
  return await withWorkDir("agent", opts.log, async (dir) => {
    const node = await startSimulatedNode(PROFILE, dir);
    let cycles, s: Soak;
    try {
      opts.log(
        `agent: timing ${plan.cycles.fast} fast, ${plan.cycles.medium} medium, ${plan.cycles.slow} slow cycles`,
      );
      cycles = await timeCycles(
        { procDir: node.procDir, node: node.model.node, cycles: plan.cycles },
        node.env,
      );
      s = await soak(plan, dir, node, opts.log);
    } finally {
      await node.stop();
    }
    const t = cycles.timings;
    const fast = wallOf(t, "fast"), medium = wallOf(t, "medium");
    const mediumRuns = t.filter((x) => x.interval === "medium").map((x) =>
      x.wallMs
    );
    const slow = wallOf(t, "slow");
    const settled = s.readings.filter((r) =>
      r.atMs - s.startMs >= plan.settleMs
    );
    const slopeMbPerMs = slope(
      settled.map((r) => ({ x: r.atMs, y: r.rssMb })),
    );
    const first = s.readings[0], last = s.readings.at(-1)!;
    // The last minute (the last fifth of a --quick soak).
    const ending = s.readings.filter((r) =>
      r.atMs >= s.endMs - Math.min(60_000, plan.soakMs / 5)
    );
    const endRss = distribution(ending.map((r) => r.rssMb));
    const cyclesRun = s.stored.fast + s.stored.medium + s.stored.slow;
    const cpuPerCycle = (last.cpuMs - first.cpuMs) / Math.max(1, cyclesRun);
    const soakS = (s.endMs - s.startMs) / 1000;
    const figures: Figure[] = [
      targetFigure(
        "fast cycle wall (max)",
        fast.max,
        "ms",
        "<=",
        AGENT_TARGETS.fastCycleMs,
        `p50 ${fast.p50} ms over ${fast.count} cycles`,
      ),
      targetFigure(
        "medium cycle wall (max)",
        medium.max,
        "ms",
        "<=",
        AGENT_TARGETS.mediumCycleMs,
        `p50 ${medium.p50} ms over ${medium.count} cycles`,
      ),
      targetFigure(
        "first medium cycle wall",
        mediumRuns[0] ?? null,
        "ms",
        "<=",
        AGENT_TARGETS.mediumCycleMs,
        "right after start: every guest config is fetched, none cached yet",
      ),
      targetFigure(
        "later medium cycle wall (max)",
        mediumRuns.length > 1 ? Math.max(...mediumRuns.slice(1)) : null,
        "ms",
        "<=",
        AGENT_TARGETS.mediumCycleMs,
        "configs cached (agent refetches them on change or after a TTL)",
      ),
      baselineFigure(
        "agent CPU per fast cycle",
        cpuOf(t, "fast").p50,
        "ms",
        "info",
        { label: "fast cycle wall p50", value: fast.p50 ?? 0 },
        "CPU of the agent process itself; the ratio is its share of a core during the cycle",
      ),
      baselineFigure(
        "agent CPU per medium cycle",
        cpuOf(t, "medium").p50,
        "ms",
        "info",
        { label: "medium cycle wall p50", value: medium.p50 ?? 0 },
      ),
      targetFigure(
        "agent RSS after soak",
        endRss.p50,
        "MB",
        "<=",
        AGENT_TARGETS.rssMb,
        `after ${
          round(soakS, 0)
        } s at a 1 s fast interval: median of the last ${endRss.count} readings (GC makes a sawtooth), last ${
          round(last.rssMb, 1)
        } MB, max ${endRss.max} MB`,
      ),
      baselineFigure(
        "agent anonymous RSS after soak",
        distribution(
          ending.flatMap((r) => r.rssAnonMb === null ? [] : [r.rssAnonMb]),
        ).p50,
        "MB",
        "info",
        { label: "agent RSS after soak", value: endRss.p50 ?? 0 },
        "RssAnon: heaps and stacks; the rest of RSS is the runtime's executable, file-backed and shared",
      ),
      targetFigure(
        "agent RSS slope",
        slopeMbPerMs === null ? null : slopeMbPerMs * 3_600_000,
        "MB/h",
        opts.quick ? "info" : "<=",
        AGENT_TARGETS.rssSlopeMbPerHour,
        `least squares over ${settled.length} readings after the first ${
          plan.settleMs / 1000
        } s`,
      ),
      baselineFigure(
        "agent CPU per cycle in soak",
        cpuPerCycle,
        "ms",
        "info",
        { label: "the 1 s fast interval", value: 1000 },
        `${cyclesRun} cycles stored; ratio is the agent's mean share of a core`,
      ),
      baselineFigure(
        "fast samples stored in soak",
        s.stored.fast,
        "samples",
        ">=",
        { label: "90 % of one per second", value: Math.floor(0.9 * soakS) },
        `${s.skippedWarnings} ticks skipped because a cycle was still running`,
      ),
    ];
    const deviations = opts.quick
      ? [
        `--quick: soak ${
          plan.soakMs / 1000
        } s instead of 10 min (RSS slope is not meaningful), ${plan.cycles.fast}/${plan.cycles.medium}/${plan.cycles.slow} timed cycles`,
      ]
      : [];
    return finishReport(begun, {
      bench: "agent",
      quick: opts.quick,
      deviations,
      figures,
      details: {
        profile: "scripts/fake_node/profiles/bench50.toml",
        guests: node.model.guests.length,
        pveshLatencyMs: node.model.latencyMs,
        concurrency: cycles.concurrency,
        cycleWallMs: { fast, medium, slow },
        mediumRunsMs: mediumRuns.map((x) => round(x, 0)),
        cycleCpuMs: {
          fast: cpuOf(t, "fast"),
          medium: cpuOf(t, "medium"),
          slow: cpuOf(t, "slow"),
        },
        commandCpuMsPerCycle: Object.fromEntries(
          (["fast", "medium", "slow"] as const).map((i) => [
            i,
            distribution(
              t.filter((x) => x.interval === i).map((x) => x.childCpuMs),
            ).p50,
          ]),
        ),
        collectorErrors: cycles.firstErrors,
        soak: {
          seconds: round(soakS, 1),
          stored: s.stored,
          skippedWarnings: s.skippedWarnings,
          rssMb: {
            first: round(first.rssMb, 1),
            last: round(last.rssMb, 1),
            max: round(Math.max(...s.readings.map((r) => r.rssMb)), 1),
            lastAnon: round(last.rssAnonMb, 1),
          },
          command: s.command,
          rssTimeline: s.readings.filter((_, i) =>
            i % Math.max(1, Math.floor(s.readings.length / 40)) === 0
          )
            .map((
              r,
            ) => [round((r.atMs - s.startMs) / 1000, 0), round(r.rssMb, 1)]),
          commandCpuMs: round(last.childCpuMs - first.childCpuMs, 0),
        },
        agentLogTail: s.logTail,
      },
      headline: [
        "fast cycle wall (max)",
        "medium cycle wall (max)",
        "agent RSS after soak",
        "agent RSS slope",
      ].map((name) => figures.find((f) => f.name === name)!),
    });
  });
}
