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
 * 3. Process-tree CPU: the same agent at the default intervals (10 s, 60 s,
 *    30 min) with the node's pmxcfs, for a few minutes per PVE source; the
 *    CPU of the agent and of every child it ran (each fake pvesh burns
 *    300 ms, as Perl's start-up does on a node) from /proc/PID/stat, per
 *    minute, and the pvesh calls it made (a logging pvesh first on PATH).
 *
 * Knobs (all optional): BENCH_AGENT_SOAK_S (soak length), BENCH_AGENT_TREE_S
 * (process-tree CPU window, per source), BENCH_AGENT_BIN (a
 * compiled agent), BENCH_AGENT_ENTRY (e.g. agent/main.ts),
 * BENCH_AGENT_V8_FLAGS (replaces the binary's; "" for none),
 * BENCH_AGENT_MALLOC_ARENA_MAX.
 */
import type { Interval } from "@proxmon/shared";
import { openDatabase } from "../../server/store/client.ts";
import { storedSampleCounts } from "../../server/store/sample_count.ts";
import {
  AGENT_PERMISSIONS,
  AGENT_V8_FLAGS,
  bundleArgs,
  bundleRunFlags,
  deno,
  v8FlagsArg,
} from "../../agent/build.ts";
import { startSimulatedNode } from "../smoke/stack.ts";
import {
  GUEST_AGENT_PER_CYCLE,
  GUEST_AGENT_TTL_MS,
  lxcNeedsLiveIps,
  parseGuestConfigFile,
  qemuAgentEnabled,
} from "../../agent/collectors/mod.ts";
import type { NodeModel } from "../fake_node/node_model.ts";
import { BACKUP_DEFAULTS } from "../../agent/collectors/backup/backup_collector.ts";
import { REPLICATION_EVERY_MS } from "../../agent/collectors/backup/replication.ts";
import { configFileText } from "../fake_node/pmxcfs.ts";
import { spawnProc } from "../smoke/process.ts";
import type { CyclePlan, CycleTiming } from "./agent_cycles.ts";
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { REPO_ROOT } from "./paths.ts";
import { ProcSampler, readProc } from "./proc_stats.ts";
import { installPveshLog } from "../fake_node/pvesh_log.ts";
import { CPU_LOG_ENV, cpuLogCalls, cpuLogMs } from "../fake_node/fake_tool.ts";
import { pveApiAnswer } from "../fake_node/tools/pvesh.ts";
import { startFakePveApi } from "../../agent/testing/fake_pve_api.ts";
import { makeTestTls } from "../../agent/testing/test_tls.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { startServer } from "./server_process.ts";
import { distribution, round, slope } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";

export const AGENT_TARGETS = {
  /** agent + children CPU per minute at the default intervals (issue 11) */
  treeCpuMsPerMinPvesh: 3_000,
  treeCpuMsPerMinApi: 500,
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
  /** process-tree CPU: readings from the end of the warm-up to the end */
  treeWarmupMs: number;
  treeWindowMs: number;
  /** RSS readings before this are start-up, left out of the slope */
  settleMs: number;
  sampleEveryMs: number;
}

const FULL: Plan = {
  // 7 medium cycles: the first fill of 22 VMs' guest-agent facts at 4 a cycle
  cycles: { fast: 10, medium: 7, slow: 2 },
  soakMs: 600_000,
  treeWarmupMs: 70_000,
  treeWindowMs: 600_000,
  settleMs: 60_000,
  sampleEveryMs: 5_000,
};

const QUICK: Plan = {
  cycles: { fast: 3, medium: 3, slow: 1 },
  soakMs: 10_000,
  treeWarmupMs: 70_000,
  treeWindowMs: 120_000,
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
  cgroupDir: string;
  outboxPath: string;
  /** 1 s fast interval unless `defaultIntervals` */
  defaultIntervals?: boolean;
  pveDir?: string;
  /** more lines for the `[pve]` table (the API source) */
  pve?: string[];
}): string {
  return [
    `server_url = ${JSON.stringify(o.url)}`,
    `host_id = ${JSON.stringify(o.host)}`,
    `token = ${JSON.stringify(o.token)}`,
    `node = ${JSON.stringify(o.node)}`,
    `proc_dir = ${JSON.stringify(o.procDir)}`,
    `cgroup_dir = ${JSON.stringify(o.cgroupDir)}`,
    `outbox_path = ${JSON.stringify(o.outboxPath)}`,
    "",
    ...(o.defaultIntervals ? [] : [
      "[intervals]",
      "fast_seconds = 1",
      "medium_seconds = 60",
      "slow_seconds = 1800",
      "",
    ]),
    ...(o.pveDir || o.pve
      ? [
        "[pve]",
        ...(o.pveDir ? [`config_dir = ${JSON.stringify(o.pveDir)}`] : []),
        ...(o.pve ?? []),
        "",
      ]
      : []),
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

/**
 * One host registered in a fresh database under `dir`, a real server on it
 * and an agent config (`dir/agent.toml`) pointing at that server.
 */
async function serveOneAgent(
  dir: string,
  node: Awaited<ReturnType<typeof startSimulatedNode>>,
  o: {
    hostPrefix: string;
    serverLog: string;
    defaultIntervals?: boolean;
    pve?: string[];
  },
) {
  const dbPath = `${dir}/agent.db`;
  const [host] = await registerBenchHosts(dbPath, o.hostPrefix, 1);
  const server = await startServer({
    dbPath,
    logPath: `${dir}/${o.serverLog}`,
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
      cgroupDir: node.cgroupDir,
      pveDir: node.pveDir,
      outboxPath: `${dir}/outbox.json`,
      defaultIntervals: o.defaultIntervals,
      pve: o.pve,
    }),
  );
  return { dbPath, server, configPath };
}

async function soak(
  plan: Plan,
  dir: string,
  node: Awaited<ReturnType<typeof startSimulatedNode>>,
  log: (msg: string) => void,
): Promise<Soak> {
  const { dbPath, server, configPath } = await serveOneAgent(
    dir,
    node,
    { hostPrefix: "agent-", serverLog: "agent-server.log" },
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
  const stored = await storedCounts(dbPath, endMs);
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

/** One PVE source for the process-tree CPU run. */
interface TreeSource {
  label: "pvesh" | "api";
  /** `[pve]` lines for agent.toml (the API source's token, URL, CA) */
  pve?: string[];
  /** Stops what the source started (the fake API). */
  stop?: () => Promise<void>;
}

interface TreeCpu {
  source: TreeSource["label"];
  windowS: number;
  /** agent + reaped children, per minute of the window */
  treeCpuMsPerMin: number;
  agentCpuMsPerMin: number;
  childCpuMsPerMin: number;
  /** the same over the whole run, start-up included */
  wholeRunTreeCpuMsPerMin: number;
  pveshCallsPerMin: number;
  pveshCallsByKind: Record<string, number>;
  /** CPU per minute of each fake tool, as each call logged it at its end */
  toolCpuMsPerMin: Record<string, number>;
  /** calls per minute of each fake tool (one CPU-log line per call) */
  toolCallsPerMin: Record<string, number>;
  /** guest-agent pvesh calls (VM agent, container interfaces) in the window */
  guestAgentCallsInWindow: number;
  /** mean CPU of one fake pvesh call in the window, null without any */
  pveshMsPerCall: number | null;
  stored: Record<Interval, number>;
  rssMb: number | null;
  logTail: string;
}

/** The kind of a pvesh call, for the per-kind counts. */
function pveshKind(args: string): string {
  const path = args.split(" ")[1] ?? "";
  if (path === "/cluster/resources") return "cluster resources";
  if (/\/agent\//.test(path)) return "guest agent";
  if (/\/interfaces$/.test(path)) return "lxc interfaces";
  if (/\/config$/.test(path)) return "config";
  if (/^\/nodes\/[^/]+\/(qemu|lxc|storage)$/.test(path)) return "node list";
  return "other";
}

/**
 * The agent at the default intervals for the warm-up and then the window:
 * CPU of the agent and its children (cutime/cstime count each child once it
 * has been reaped), per minute, and the pvesh calls it made.
 */
async function treeCpu(
  plan: Plan,
  dir: string,
  node: Awaited<ReturnType<typeof startSimulatedNode>>,
  source: TreeSource,
  log: (msg: string) => void,
): Promise<TreeCpu> {
  const runDir = `${dir}/tree-${source.label}`;
  await Deno.mkdir(runDir);
  const { dbPath, server, configPath } = await serveOneAgent(runDir, node, {
    hostPrefix: "tree-",
    serverLog: "server.log",
    defaultIntervals: true,
    pve: source.pve,
  });
  const pvesh = await installPveshLog(runDir);
  const cpuLog = `${runDir}/tool-cpu.log`;
  await Deno.writeTextFile(cpuLog, "");
  const toolLines = async () =>
    (await Deno.readTextFile(cpuLog)).split("\n").filter((l) => l !== "");
  const how = await agentCommand(runDir);
  const agent = spawnProc(`agent (${source.label})`, how.command, {
    args: [...how.args, "--config", configPath],
    env: {
      HOME: Deno.env.get("HOME") ?? "/tmp",
      ...node.env,
      PATH: `${pvesh.binDir}:${node.env.PATH}`,
      [CPU_LOG_ENV]: cpuLog,
      DENO_NO_UPDATE_CHECK: "1",
    },
    cwd: REPO_ROOT,
  });
  const now = () => Date.now();
  log(
    `agent: process-tree CPU with the ${source.label} source, default intervals, ${
      (plan.treeWarmupMs + plan.treeWindowMs) / 1000
    } s`,
  );
  try {
    const start = await readProc(agent.pid, now);
    await new Promise((r) => setTimeout(r, plan.treeWarmupMs));
    const from = await readProc(agent.pid, now);
    const callsBefore = (await pvesh.calls()).length;
    const toolsBefore = (await toolLines()).length;
    await new Promise((r) => setTimeout(r, plan.treeWindowMs));
    const to = await readProc(agent.pid, now);
    const calls = await pvesh.calls();
    const tools = (await toolLines()).slice(toolsBefore);
    if (!start || !from || !to || agent.exited()) {
      throw new Error(
        `agent (${source.label}) exited during the run:\n${agent.tail(20)}`,
      );
    }
    const minutes = (to.atMs - from.atMs) / 60_000;
    const perMin = (ms: number) => ms / minutes;
    const windowCalls = calls.slice(callsBefore);
    const byKind: Record<string, number> = {};
    for (const c of windowCalls) {
      const kind = pveshKind(c);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    }
    const toolCpu = cpuLogMs(tools);
    const toolCalls = cpuLogCalls(tools);
    return {
      source: source.label,
      windowS: Math.round((to.atMs - from.atMs) / 1000),
      treeCpuMsPerMin: perMin(
        to.cpuMs + to.childCpuMs - from.cpuMs - from.childCpuMs,
      ),
      agentCpuMsPerMin: perMin(to.cpuMs - from.cpuMs),
      childCpuMsPerMin: perMin(to.childCpuMs - from.childCpuMs),
      wholeRunTreeCpuMsPerMin: (to.cpuMs + to.childCpuMs - start.cpuMs -
        start.childCpuMs) / ((to.atMs - start.atMs) / 60_000),
      pveshCallsPerMin: windowCalls.length / minutes,
      pveshCallsByKind: byKind,
      guestAgentCallsInWindow: (byKind["guest agent"] ?? 0) +
        (byKind["lxc interfaces"] ?? 0),
      pveshMsPerCall: toolCalls.pvesh ? toolCpu.pvesh / toolCalls.pvesh : null,
      toolCallsPerMin: Object.fromEntries(
        Object.entries(toolCalls).map((
          [k, n],
        ) => [k, Math.round(n / minutes * 10) / 10]),
      ),
      toolCpuMsPerMin: Object.fromEntries(
        Object.entries(toolCpu).map(([k, v]) => [k, Math.round(perMin(v))]),
      ),
      stored: await storedCounts(dbPath, to.atMs),
      rssMb: Math.round(to.rssBytes / 2 ** 19) / 2,
      logTail: agent.tail(10),
    };
  } finally {
    await agent.stop({ graceMs: 10_000 });
    await server.stop();
    await source.stop?.();
  }
}

async function storedCounts(
  dbPath: string,
  untilMs: number,
): Promise<Record<Interval, number>> {
  const database = await openDatabase(`file:${dbPath}`);
  let stored: Record<Interval, number>;
  try {
    // head rows or, compacted at the server's stop, raw blocks
    stored = await storedSampleCounts(database, untilMs);
  } finally {
    database.close();
  }
  return stored;
}

/**
 * The guest-agent calls one round of asks makes on this node, by the
 * agent's own rules: two (interfaces, file systems) per running VM whose
 * config enables the agent, one per running container that needs its live
 * interfaces.
 */
function guestAgentCallsPerRound(model: NodeModel): number {
  let calls = 0;
  for (const g of model.guests) {
    if (g.status !== "running" || g.template) continue;
    const { config } = parseGuestConfigFile(configFileText(model, g), "bench");
    if (g.type === "qemu" && qemuAgentEnabled(config)) calls += 2;
    if (g.type === "lxc" && lxcNeedsLiveIps(config)) calls += 1;
  }
  return calls;
}

/**
 * The process-tree CPU at steady state. A short window right after the
 * start sees the first fill of the guest-agent facts (4 guests a cycle) and
 * none of their refreshes (due ½ to 1½ TTL after the fill), so for pvesh the
 * window's guest-agent calls are replaced by the steady rate (one round of
 * asks per TTL), priced at the window's own measured CPU per pvesh call.
 * Through the API the asks are HTTPS requests inside the agent's own CPU and
 * cannot be told apart, so the window stands (fill included: an
 * over-estimate).
 */
function steadyTreeCpu(
  r: TreeCpu,
  callsPerRound: number,
  healthCallsPerMin: number,
): { msPerMin: number; steadyCallsPerMin: number } {
  const ttlMin = GUEST_AGENT_TTL_MS[r.source] / 60_000;
  const steadyCallsPerMin = callsPerRound / ttlMin;
  if (r.source === "api" || r.pveshMsPerCall === null) {
    return { msPerMin: r.treeCpuMsPerMin, steadyCallsPerMin };
  }
  const windowMin = r.windowS / 60;
  const seen = r.guestAgentCallsInWindow / windowMin;
  // through pvesh only the backups collector lists storages
  const healthSeen = healthCallsSeen(r) / windowMin;
  return {
    msPerMin: r.treeCpuMsPerMin +
      (steadyCallsPerMin - seen + healthCallsPerMin - healthSeen) *
        r.pveshMsPerCall,
    steadyCallsPerMin,
  };
}

/** The backups and replication calls of a window (pvesh source). */
const healthCallsSeen = (r: TreeCpu) =>
  (r.pveshCallsByKind.other ?? 0) + (r.pveshCallsByKind["node list"] ?? 0);

/**
 * The backups and replication collectors' pvesh calls a minute at steady
 * state, from their own schedules (backup_collector.ts, replication.ts):
 * the task list, the three config reads, one listing per backup storage an
 * hour, the replication list (job-run logs, one a night, left out). A short
 * window sees none of them (their first reads are at the start).
 */
function healthCallsPerMin(model: NodeModel): number {
  const min = (ms: number) => ms / 60_000;
  const backupStorages =
    model.storages.filter((s) => s.content.split(",").includes("backup"))
      .length;
  return 1 / min(BACKUP_DEFAULTS.tasksEveryMs) +
    3 / min(BACKUP_DEFAULTS.configEveryMs) +
    backupStorages / min(BACKUP_DEFAULTS.relistEveryMs) +
    1 / min(REPLICATION_EVERY_MS);
}

function treeFigures(
  runs: TreeCpu[],
  callsPerRound: number,
  healthPerMin: number,
): Figure[] {
  return runs.flatMap((r) => {
    const target = r.source === "pvesh"
      ? AGENT_TARGETS.treeCpuMsPerMinPvesh
      : AGENT_TARGETS.treeCpuMsPerMinApi;
    const steady = steadyTreeCpu(r, callsPerRound, healthPerMin);
    const calls = Object.entries(r.pveshCallsByKind)
      .map(([k, n]) => `${k} ${n}`).join(", ") || "none";
    const tools = Object.entries(r.toolCpuMsPerMin)
      .map(([k, ms]) => `${k} ${ms} ms in ${r.toolCallsPerMin[k]} calls`)
      .join(", ") || "none";
    return [
      targetFigure(
        `process-tree CPU per minute (${r.source}, steady state)`,
        steady.msPerMin,
        "ms",
        "<=",
        target,
        r.source === "pvesh"
          ? `the window's ${
            r.treeCpuMsPerMin.toFixed(0)
          } ms/min with its ${r.guestAgentCallsInWindow} guest-agent pvesh calls (first fill) replaced by the steady ${
            round(steady.steadyCallsPerMin, 2)
          } calls/min (${callsPerRound} calls per ${
            GUEST_AGENT_TTL_MS.pvesh / 60_000
          } min TTL) and its ${
            healthCallsSeen(r)
          } backup/replication calls by their steady ${
            round(healthPerMin, 2)
          } calls/min, at the window's ${
            round(r.pveshMsPerCall, 0)
          } ms per pvesh call`
          : `the window's figure: guest-agent asks (${
            round(steady.steadyCallsPerMin, 2)
          }/min at steady state) are HTTPS requests within the agent's own CPU`,
      ),
      targetFigure(
        `process-tree CPU per minute (${r.source}), measured window`,
        r.treeCpuMsPerMin,
        "ms",
        "info",
        target,
        `default intervals, ${r.windowS} s after a warm-up: agent ${
          round(r.agentCpuMsPerMin, 0)
        } ms + children ${round(r.childCpuMsPerMin, 0)} ms; ${
          round(r.pveshCallsPerMin, 2)
        } pvesh calls/min (${calls} in the window); fake tools' own CPU/min: ${tools} (pvesh, pveversion and apt are Deno processes, pvesh burning pvesh_cpu_ms as Perl does; zpool, zfs, smartctl and sensors are bash clients of the tool server, a few ms as the real ones); whole run incl. start ${
          round(r.wholeRunTreeCpuMsPerMin, 0)
        } ms/min`,
      ),
    ];
  });
}

const API_TOKEN = "proxmon@pve!agent=5b4d1b52-6e4c-4a4f-9d1e-0c2e6d0f7a11";

/**
 * The PVE sources whose process-tree CPU the run measures: pvesh, then the
 * API against a loopback HTTPS fake with its own CA, run inside this
 * process (so, like pveproxy, outside the agent's process tree).
 */
function treeSources(
  dir: string,
  node: Awaited<ReturnType<typeof startSimulatedNode>>,
): (() => Promise<TreeSource>)[] {
  const wanted = (Deno.env.get("BENCH_AGENT_TREE_SOURCES") ?? "pvesh,api")
    .split(",");
  const sources: (() => Promise<TreeSource>)[] = [
    () => Promise.resolve({ label: "pvesh" }),
    async () => {
      const tlsDir = `${dir}/api-tls`;
      await Deno.mkdir(tlsDir);
      const tls = await makeTestTls(tlsDir);
      const api = startFakePveApi({
        tls,
        token: API_TOKEN,
        answer: (path, params) =>
          pveApiAnswer(node.model, path, Date.now(), params),
      });
      return {
        label: "api",
        pve: [
          `api_token = ${JSON.stringify(API_TOKEN)}`,
          `api_url = ${JSON.stringify(api.url)}`,
          `ca_file = ${JSON.stringify(tls.caFile)}`,
        ],
        stop: () => api.close(),
      };
    },
  ];
  return sources.filter((_, i) => wanted.includes(i === 0 ? "pvesh" : "api"));
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
  const treeOverride = Deno.env.get("BENCH_AGENT_TREE_S");
  const plan = {
    ...(opts.quick ? QUICK : FULL),
    ...(soakOverride ? { soakMs: Number(soakOverride) * 1000 } : {}),
    ...(treeOverride ? { treeWindowMs: Number(treeOverride) * 1000 } : {}),
  };
  return await withWorkDir("agent", opts.log, async (dir) => {
    const node = await startSimulatedNode(PROFILE, dir);
    let cycles, s: Soak;
    const trees: TreeCpu[] = [];
    try {
      opts.log(
        `agent: timing ${plan.cycles.fast} fast, ${plan.cycles.medium} medium, ${plan.cycles.slow} slow cycles`,
      );
      cycles = await timeCycles(
        {
          procDir: node.procDir,
          pveDir: node.pveDir,
          cgroupDir: node.cgroupDir,
          node: node.model.node,
          cycles: plan.cycles,
        },
        node.env,
      );
      s = await soak(plan, dir, node, opts.log);
      for (const source of treeSources(dir, node)) {
        trees.push(await treeCpu(plan, dir, node, await source(), opts.log));
      }
    } finally {
      await node.stop();
    }
    const t = cycles.timings;
    const fast = wallOf(t, "fast"), medium = wallOf(t, "medium");
    const mediumRuns = t.filter((x) => x.interval === "medium").map((x) =>
      x.wallMs
    );
    const mediumFacts = t.filter((x) => x.interval === "medium").map((x) =>
      x.vmsWithAgentFacts ?? 0
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
      ...treeFigures(
        trees,
        guestAgentCallsPerRound(node.model),
        healthCallsPerMin(node.model),
      ),
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
        `right after start: configs read from pmxcfs, at most ${GUEST_AGENT_PER_CYCLE} guests asked through their guest agents, the backups collector's first reads`,
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
        "VMs whose guest agent answered, after the timed medium cycles",
        mediumFacts.at(-1) ?? null,
        "VMs",
        "info",
        {
          label: "running VMs with a running guest agent",
          value: node.model.guests.filter((g) =>
            g.type === "qemu" && g.status === "running" && !g.template &&
            g.agent === "running"
          ).length,
        },
        `after each of the ${mediumFacts.length} back-to-back medium cycles: ${
          mediumFacts.join(", ")
        } (at most ${GUEST_AGENT_PER_CYCLE} guests asked a cycle)`,
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
          ending.flatMap((r) =>
            r.rssAnonMb === null ? [] : [r.rssAnonMb]
          ),
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
        mediumVmsWithAgentFacts: mediumFacts,
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
        treeCpu: trees.map((t) => ({
          ...t,
          treeCpuMsPerMin: round(t.treeCpuMsPerMin, 0),
          agentCpuMsPerMin: round(t.agentCpuMsPerMin, 0),
          childCpuMsPerMin: round(t.childCpuMsPerMin, 0),
          wholeRunTreeCpuMsPerMin: round(t.wholeRunTreeCpuMsPerMin, 0),
          pveshCallsPerMin: round(t.pveshCallsPerMin, 2),
        })),
      },
      headline: [
        ...trees.map((t) =>
          `process-tree CPU per minute (${t.source}, steady state)`
        ),
        "first medium cycle wall",
        "fast cycle wall (max)",
        "medium cycle wall (max)",
        "agent RSS after soak",
        "agent RSS slope",
      ].map((name) => figures.find((f) => f.name === name)!),
    });
  });
}
