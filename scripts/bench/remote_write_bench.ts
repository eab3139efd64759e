/**
 * remote_write under the ingest load: 1,000 agent connections send fast
 * samples at 2,100/s for 60 s to a server whose REMOTE_WRITE_URL is a real
 * VictoriaMetrics on 127.0.0.1. The ingest targets must still hold, and the
 * queue must keep up: its depth and lag are read every second from a second
 * connection to the server's database (primary-key lookups only), and at
 * the end VictoriaMetrics must hold every stored sample's CPU series.
 */
import { openDatabase } from "../../server/store/client.ts";
import { queueHead } from "../../server/export/remote_write/remote_write_queue.ts";
import { payloadSeries } from "../../server/export/metric_families.ts";
import { startVictoriaMetrics } from "../../server/testing/tsdb_servers.ts";
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { INGEST_TARGETS, OFFERED_PER_SECOND } from "./ingest_bench.ts";
import { ackCount, windowStats } from "./load_fleet.ts";
import { WARMUP_MS, warmupAndSustain } from "./load_plan.ts";
import { runLoad } from "./load_run.ts";
import {
  type CpuSplit,
  cpuSplit,
  readProc,
  readThreads,
  usageOver,
} from "./proc_stats.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { loadPayload, loadSampleData } from "./sample_fixtures.ts";
import { startFleetServer } from "./server_process.ts";
import { distribution, round } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";

/** Ours, not the issue's: the queue's oldest entry at most this old. */
export const REMOTE_WRITE_TARGETS = { lagP99S: 10, drainS: 30 } as const;

const FULL = {
  connections: 1_000,
  warmupMs: WARMUP_MS.full,
  sustainMs: 60_000,
};
const QUICK = {
  connections: 1_000,
  warmupMs: WARMUP_MS.quick,
  sustainMs: 10_000,
};

interface Reading {
  atMs: number;
  rows: number;
  lagS: number;
}

/** A remote_write receiver that reads each request and drops it. */
function startSink() {
  const stats = { requests: 0, bytes: 0 };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      stats.bytes += (await req.arrayBuffer()).byteLength;
      stats.requests++;
      return new Response(null, { status: 204 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/api/v1/write`,
    get requests() {
      return stats.requests;
    },
    get bytes() {
      return stats.bytes;
    },
    stop: () => server.shutdown(),
  };
}

/** Runs the remote_write benchmark. */
export async function runRemoteWriteBench(
  opts: { quick: boolean; log: (msg: string) => void },
): Promise<BenchReport> {
  const begun = beginReport();
  const plan = opts.quick ? QUICK : FULL;
  return await withWorkDir("remote-write", opts.log, async (dir) => {
    const data = await loadSampleData("fast");
    const payloadPath = `${dir}/fast.json`;
    await Deno.writeTextFile(payloadPath, JSON.stringify(data));
    const seriesPerSample = payloadSeries(
      "x",
      { interval: "fast", data: await loadPayload("fast") },
      {
        datasets: false,
      },
    ).length;
    const vm = await startVictoriaMetrics({
      dataDir: `${dir}/vm-data`,
      logPath: `${dir}/vm`,
      // Queries see the newest samples too (the default hides the last 30 s).
      args: ["-search.latencyOffset=0s"],
    });
    // BENCH_RW_SINK=1: the server pushes to a loopback sink in this
    // process that takes each request and drops it, instead of to
    // VictoriaMetrics: what remote_write costs the server alone, without
    // the receiver's own CPU on the same two cores. Nothing is checked.
    const sink = Deno.env.get("BENCH_RW_SINK") === "1" ? startSink() : null;
    const dbPath = `${dir}/rw.db`;
    const hosts = await registerBenchHosts(dbPath, "rw-", plan.connections);
    const server = await startFleetServer({
      label: "remote-write",
      log: opts.log,
      dbPath,
      logPath: `${dir}/rw-server.log`,
      env: {
        // BENCH_REMOTE_WRITE=0: the same load with remote_write off, the
        // baseline for what remote_write costs ingest on this machine.
        ...(Deno.env.get("BENCH_REMOTE_WRITE") === "0"
          ? {}
          : { REMOTE_WRITE_URL: sink?.url ?? `${vm.url}/api/v1/write` }),
        // The bench reads remote_write's own counters from /metrics.
        METRICS_PUBLIC: "1",
      },
    });
    // The receiver shares this machine's cores with the server and the
    // agents: its CPU is part of what remote_write costs here, not in a
    // deployment where it runs elsewhere.
    const vmBefore = await readProc(vm.pid, () => Date.now());
    const reader = await openDatabase(`file:${dbPath}`);
    const readings: Reading[] = [];
    const read = async () => {
      const head = await queueHead(reader);
      const atMs = Date.now();
      readings.push({
        atMs,
        rows: head.rows,
        lagS: head.oldestEnqueuedAtMs === null
          ? 0
          : (atMs - head.oldestEnqueuedAtMs) / 1000,
      });
      return head.rows;
    };
    const phases = warmupAndSustain(plan, OFFERED_PER_SECOND);
    // The server's CPU by thread over the run (the load, then the drain):
    // ingest and remote_write's JavaScript share the main thread, so its
    // CPU per stored sample is what remote_write takes from ingest.
    const cpuNow = async () => ({
      threads: await readThreads(server.pid),
      process: (await readProc(server.pid, () => Date.now()))!,
    });
    const cpuAtStart = await cpuNow();
    let cpuLoad: CpuSplit | null = null;
    let cpuRun: CpuSplit | null = null;
    let run;
    let drainS: number | null = null;
    let backlog = 0;
    let vmAfter: Awaited<ReturnType<typeof readProc>> = null;
    let vmPoints = 0;
    let counters: Record<string, number> = {};
    let ingestStored = 0;
    try {
      let polling = true;
      const poll = (async () => {
        while (polling) {
          await read();
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
      run = await runLoad({
        server,
        hosts,
        generators: 2,
        phases,
        payloadPath,
        workDir: dir,
        label: "remote-write",
        drainMs: 15_000,
        log: opts.log,
      });
      polling = false;
      await poll;
      cpuLoad = cpuSplit(server.pid, cpuAtStart, await cpuNow());
      // After the load: how long until the queue is empty, and how fast the
      // pump sends with the agents quiet (what it can do, not what it had).
      backlog = await read();
      const t0 = performance.now();
      while (performance.now() - t0 < 120_000) {
        if (await read() === 0) {
          drainS = (performance.now() - t0) / 1000;
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      // An overloaded server may still be storing what the agents sent
      // before they stopped: the counts below wait until it is done and
      // its queue is empty again (else VictoriaMetrics holds more than
      // "stored" says).
      const storedNow = async () => {
        const own = await (await fetch(`${server.baseUrl}/metrics`)).text();
        return {
          own,
          stored: Number(
            own.match(
              /^proxmon_ingest_samples_total\{outcome="stored"\} (\d+)$/m,
            )?.[1] ?? 0,
          ),
        };
      };
      let settled = await storedNow();
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const again = await storedNow();
        const quiet = again.stored === settled.stored && await read() === 0;
        settled = again;
        if (quiet) break;
      }
      const own = settled.own;
      ingestStored = settled.stored;
      cpuRun = cpuSplit(server.pid, cpuAtStart, await cpuNow());
      counters = Object.fromEntries(
        own.split("\n")
          .filter((l) => l.startsWith("proxmon_remote_write_"))
          .map((
            l,
          ) => [
            l.slice(0, l.lastIndexOf(" ")),
            Number(l.slice(l.lastIndexOf(" ") + 1)),
          ]),
      );
      vmAfter = await readProc(vm.pid, () => Date.now());
      // VictoriaMetrics makes new rows searchable after a flush.
      await (await fetch(`${vm.url}/internal/force_flush`)).body?.cancel();
      await new Promise((r) => setTimeout(r, 2000));
      const res = await fetch(
        `${vm.url}/api/v1/query?query=${
          encodeURIComponent("sum(count_over_time(proxmon_host_cpu_ratio[1h]))")
        }`,
      );
      const body = await res.json();
      vmPoints = Number(body?.data?.result?.[0]?.value?.[1] ?? 0);
    } finally {
      reader.close();
      await server.stop();
      await vm.stop();
      await sink?.stop();
    }
    // The server's own count: the store keeps samples in more than one
    // table (head, then compacted blocks).
    const stored = ingestStored;
    const s0 = plan.warmupMs, s1 = s0 + plan.sustainMs;
    const sustained = windowStats(run.result, s0, s1);
    const during = readings.filter((r) =>
      r.atMs >= run.atMs + s0 && r.atMs <= run.atMs + s1
    );
    const lag = distribution(during.map((r) => r.lagS));
    const depth = distribution(during.map((r) => r.rows));
    const use = usageOver(run.sampler.readings);
    const perSample = (ms: number | undefined) =>
      ms === undefined || stored === 0 ? null : round(ms / stored, 3);
    const figures: Figure[] = [
      targetFigure(
        "acked/s sustained, remote_write on",
        sustained.ackedPerSecond,
        "samples/s",
        ">=",
        INGEST_TARGETS.ackedPerSecond,
      ),
      targetFigure(
        "ack p99, remote_write on",
        sustained.latencyMs.p99,
        "ms",
        "<=",
        INGEST_TARGETS.p99Ms,
      ),
      targetFigure(
        "server peak RSS, remote_write on",
        use.peakRssMb,
        "MB",
        "<=",
        INGEST_TARGETS.rssMb,
      ),
      targetFigure(
        "remote_write lag p99 while sustained",
        lag.p99,
        "s",
        "<=",
        REMOTE_WRITE_TARGETS.lagP99S,
        "age of the oldest queued entry, read every second",
      ),
      baselineFigure(
        "remote_write queue depth max while sustained",
        depth.max,
        "stored samples",
        "info",
        { label: "samples offered per second", value: OFFERED_PER_SECOND },
        `p50 ${depth.p50}, p99 ${depth.p99}; each stored sample is ${seriesPerSample} series`,
      ),
      targetFigure(
        "queue empty after the load",
        drainS,
        "s",
        "<=",
        REMOTE_WRITE_TARGETS.drainS,
      ),
      targetFigure(
        "pump drain rate after the load",
        drainS === null || backlog === 0 ? null : round(backlog / drainS),
        "stored samples/s",
        ">=",
        INGEST_TARGETS.ackedPerSecond,
        `${backlog} stored samples queued when the load ended; REMOTE_WRITE_MAX_IN_FLIGHT=${
          Deno.env.get("REMOTE_WRITE_MAX_IN_FLIGHT") ?? "1 (default)"
        }`,
      ),
      baselineFigure(
        "VictoriaMetrics CPU while loaded and draining",
        vmBefore && vmAfter
          ? round(
            (vmAfter.cpuMs - vmBefore.cpuMs) /
              (vmAfter.atMs - vmBefore.atMs) * 100,
          )
          : null,
        "% of a core",
        "info",
        {
          label: "server CPU % while loaded",
          value: Math.round(use.cpuPercent ?? 0),
        },
        "the receiver runs on the same two cores as the server and the agents; in a deployment it runs elsewhere",
      ),
      baselineFigure(
        "server main-thread CPU per stored sample, load + drain",
        perSample(cpuRun?.mainMs),
        "ms",
        "info",
        {
          label: "whole process per stored sample",
          value: perSample(cpuRun?.totalMs) ?? 0,
        },
        `from /proc/PID/task/*/stat, the load's start to an empty queue and nothing left to store; remote_write ${
          Deno.env.get("BENCH_REMOTE_WRITE") === "0" ? "off" : "on"
        }; during the load alone: main ${
          perSample(cpuLoad?.mainMs)
        } ms, process ${perSample(cpuLoad?.totalMs)} ms`,
      ),
      baselineFigure(
        "CPU points in VictoriaMetrics",
        vmPoints,
        "points",
        ">=",
        { label: "fast samples stored", value: stored },
        "sum(count_over_time(proxmon_host_cpu_ratio[1h])): one per stored sample",
      ),
    ];
    return finishReport(begun, {
      bench: "remote-write",
      quick: opts.quick,
      deviations: [
        ...(sink
          ? [
            `BENCH_RW_SINK=1: pushed to a loopback sink that dropped ${sink.requests} requests (${
              Math.round(sink.bytes / 2 ** 20)
            } MiB), not to VictoriaMetrics: its figures are not measured`,
          ]
          : []),
        "MAX_CONNECTIONS_PER_CLIENT and MAX_PENDING_PER_CLIENT raised to 2000: every agent comes from 127.0.0.1",
        ...(opts.quick
          ? [`--quick: ${plan.sustainMs / 1000} s sustained instead of 60 s`]
          : []),
      ],
      figures,
      details: {
        connections: plan.connections,
        offeredPerSecond: OFFERED_PER_SECOND,
        seriesPerSample,
        seriesPerSecondOffered: seriesPerSample * OFFERED_PER_SECOND,
        sustained,
        acks: ackCount(run.result),
        stored,
        vmPoints,
        remoteWriteCounters: counters,
        serverLogRemoteWrite: (await Deno.readTextFile(`${dir}/rw-server.log`))
          .split("\n").filter((l) => l.includes("remote_write")).slice(0, 20),
        lagS: lag,
        depthRows: depth,
        serverCpuPercent: round(use.cpuPercent),
        serverCpuMs: { load: cpuLoad, loadAndDrain: cpuRun },
        readings,
      },
      headline: figures,
    });
  });
}
