/**
 * One run of agent load against a running server: split the hosts over a
 * few generator processes, start them on one clock, sample the server's
 * memory and CPU throughout, and merge what the generators saw.
 */
import type { GeneratorResult } from "./load_plan.ts";
import type { BenchHost, GeneratorConfig, Phase } from "./load_plan.ts";
import { launchFleet, mergeResults, type ReadyInfo } from "./load_fleet.ts";
import { ProcSampler } from "./proc_stats.ts";
import type { ServerProcess } from "./server_process.ts";

export interface LoadRunOptions {
  server: ServerProcess;
  hosts: BenchHost[];
  generators: number;
  /** per-process rates are the given totals divided by `generators` */
  phases: Phase[];
  payloadPath: string;
  /** collected_at of the first sample; now unless given */
  baseCollectedAtMs?: number;
  workDir: string;
  label: string;
  drainMs: number;
  /**
   * Called once the plan's clock has started, with its epoch ms and a way
   * to cut the plan short; runs alongside the load.
   */
  onStart?: (atMs: number, stop: () => Promise<void>) => Promise<unknown>;
  log: (msg: string) => void;
}

export interface LoadRun {
  /** epoch ms at which the first phase began; ledger times count from it */
  atMs: number;
  ready: ReadyInfo[];
  result: GeneratorResult;
  /** the server's memory and CPU, every second */
  sampler: ProcSampler;
  /** each generator's, every second: a starved generator inflates latency */
  generatorSamplers: ProcSampler[];
  onStartResult: unknown;
}

/** Splits `xs` into `n` nearly equal consecutive slices. */
function split<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      xs.slice(
        Math.floor((i * xs.length) / n),
        Math.floor(((i + 1) * xs.length) / n),
      ),
    );
  }
  return out;
}

/** Runs the phases and returns the merged ledger and server readings. */
export async function runLoad(opts: LoadRunOptions): Promise<LoadRun> {
  const sampler = new ProcSampler(opts.server.pid, 1000, () => Date.now());
  sampler.start();
  const perProcess = (p: Phase): Phase =>
    p.mode === "rate" ? { ...p, perSecond: p.perSecond / opts.generators } : p;
  const configs: GeneratorConfig[] = split(opts.hosts, opts.generators).map(
    (hosts) => ({
      wsUrl: opts.server.wsUrl,
      hosts,
      payloadPath: opts.payloadPath,
      baseCollectedAtMs: opts.baseCollectedAtMs ?? Date.now(),
      phases: opts.phases.map(perProcess),
      maxInFlight: 50,
      drainMs: opts.drainMs,
      connectConcurrency: 25,
    }),
  );
  const joinStart = performance.now();
  const fleet = await launchFleet(
    configs,
    (i) => `${opts.workDir}/${opts.label}-generator-${i}.log`,
  );
  const generatorSamplers = fleet.pids.map((pid) =>
    new ProcSampler(pid, 1000, () => Date.now())
  );
  for (const g of generatorSamplers) g.start();
  try {
    const joined = fleet.ready.reduce((a, r) => a + r.joined, 0);
    opts.log(
      `${opts.label}: ${joined}/${opts.hosts.length} connections joined in ${
        ((performance.now() - joinStart) / 1000).toFixed(1)
      } s`,
    );
    const atMs = Date.now() + 500;
    const running = fleet.run(atMs);
    const onStartResult = opts.onStart
      ? await opts.onStart(atMs, fleet.stop)
      : undefined;
    const results = await running;
    await sampler.stop();
    await Promise.all(generatorSamplers.map((g) => g.stop()));
    return {
      atMs,
      ready: fleet.ready,
      result: mergeResults(results),
      sampler,
      generatorSamplers,
      onStartResult,
    };
  } finally {
    fleet.kill();
    await sampler.stop();
    await Promise.all(generatorSamplers.map((g) => g.stop()));
  }
}
