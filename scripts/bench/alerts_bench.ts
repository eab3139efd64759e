/**
 * Alerts under ingest load (issue 14): 1,000 agents at 2,000 samples/s
 * against the real server twice, once with every rule off and once with
 * the default rules on, and
 * - the share of the server's CPU that rule evaluation takes (the engine
 *   times each sample's evaluation; reported against the process's CPU
 *   time over the same window), plus the A/B difference in server CPU;
 * - the sample ack p99 with the rules on, against the ingest target;
 * - trip → webhook: a few extra hosts each send one sample with a DEGRADED
 *   pool (pool_unhealthy fires at once) while the load runs; a loopback
 *   receiver timestamps each webhook. The channel's group window is 0 so
 *   every trip is a "first" notification (the 30 s grouping window delays
 *   later alerts on purpose; it is not latency).
 * The fleet sends the fast fixture with its pools healthy, so the steady
 * state is the common one: every rule evaluated, nothing firing.
 */
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { INGEST_TARGETS, OFFERED_PER_SECOND } from "./ingest_bench.ts";
import { windowStats } from "./load_fleet.ts";
import {
  type BenchHost,
  joinFrame,
  WARMUP_MS,
  warmupAndSustain,
} from "./load_plan.ts";
import { runLoad } from "./load_run.ts";
import { usageOver } from "./proc_stats.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { loadPayload } from "./sample_fixtures.ts";
import { startFleetServer } from "./server_process.ts";
import { distribution, round } from "./stats.ts";
import { withWorkDir } from "./work_dir.ts";
import { BUILTIN_RULES } from "../../server/alerts/rules/mod.ts";

export const ALERTS_TARGETS = {
  evalCpuShare: 10,
  tripToWebhookP99Ms: 2000,
} as const;

interface Plan {
  connections: number;
  generators: number;
  warmupMs: number;
  sustainMs: number;
  drainMs: number;
  trips: number;
}

const FULL: Plan = {
  connections: 1_000,
  generators: 2,
  warmupMs: WARMUP_MS.full,
  sustainMs: 60_000,
  drainMs: 10_000,
  trips: 100,
};
const QUICK: Plan = {
  ...FULL,
  warmupMs: WARMUP_MS.quick,
  sustainMs: 20_000,
  trips: 40,
};

interface Run {
  rulesOn: boolean;
  ackP99: number | null;
  ackedPerSecond: number;
  cpuPercent: number | null;
  evalMs: number | null;
  evalSamples: number | null;
  cpuMs: number | null;
  trips: number[];
  tripsSent: number;
}

const allOff = BUILTIN_RULES.map((r) =>
  `[[rule]]\nid = "${r.id}"\nenabled = false\n`
).join("");

async function engineStats(baseUrl: string) {
  const body = await (await fetch(`${baseUrl}/api/alerts?history=1`)).json();
  return body.engine as { samples: number; eval_ms: number };
}

/** Sends one degraded sample per trip host, spread over the window. */
async function tripDriver(
  wsUrl: string,
  hosts: BenchHost[],
  data: Record<string, unknown>,
  spreadMs: number,
  sentAt: Map<string, number>,
) {
  for (const host of hosts) {
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () =>
        ws.send(
          joinFrame(host),
        );
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data as string);
        if (msg.type === "joined") {
          const now = Date.now();
          sentAt.set(host.name, now);
          ws.send(
            JSON.stringify({
              type: "sample",
              ref: 1,
              interval: "fast",
              collected_at: new Date(now).toISOString(),
              data,
            }),
          );
        } else if (msg.type === "ack") {
          ws.close();
          resolve();
        } else reject(new Error(`${host.name}: ${ev.data}`));
      };
      ws.onerror = () => reject(new Error(`${host.name}: socket error`));
    });
    await new Promise((r) => setTimeout(r, spreadMs / hosts.length));
  }
}

async function runOnce(
  rulesOn: boolean,
  plan: Plan,
  dir: string,
  log: (m: string) => void,
): Promise<Run> {
  const label = rulesOn ? "rules-on" : "rules-off";
  const dbPath = `${dir}/${label}.db`;
  const fast = await loadPayload("fast");
  for (const pool of fast.zfs_pools.pools) {
    pool.health = "ONLINE";
    pool.degraded_vdev_count = 0;
    pool.last_scrub_end = Math.floor(Date.now() / 1000) - 86_400;
  }
  const payloadPath = `${dir}/${label}-fast.json`;
  await Deno.writeTextFile(payloadPath, JSON.stringify(fast));
  const degraded = structuredClone(fast);
  degraded.zfs_pools.pools[0].health = "DEGRADED";

  const hosts = await registerBenchHosts(dbPath, "alerts-", plan.connections);
  const tripHosts = rulesOn
    ? await registerBenchHosts(dbPath, "trip-", plan.trips)
    : [];
  const arrivals = new Map<string, number>();
  const receiver = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    const body = await req.json();
    const at = Date.now();
    for (const a of body.alerts ?? []) {
      if (
        a.rule === "pool_unhealthy" && a.state === "firing" &&
        !arrivals.has(a.host)
      ) arrivals.set(a.host, at);
    }
    return new Response("ok");
  });
  const alertsFile = `${dir}/${label}.toml`;
  await Deno.writeTextFile(
    alertsFile,
    rulesOn
      ? `cap_per_hour = 100000\n[[channel]]\nname = "bench"\ntype = "webhook"\nurl = "http://127.0.0.1:${receiver.addr.port}/hook"\ngroup_window = "0s"\n`
      : allOff,
  );
  const server = await startFleetServer({
    label: `alerts/${label}`,
    log,
    dbPath,
    logPath: `${dir}/${label}-server.log`,
    env: { ALERTS_FILE: alertsFile },
  });
  const phases = warmupAndSustain(plan, OFFERED_PER_SECOND);
  const sentAt = new Map<string, number>();
  let before: { samples: number; eval_ms: number } | null = null;
  let after: { samples: number; eval_ms: number } | null = null;
  let run;
  try {
    run = await runLoad({
      server,
      hosts,
      generators: plan.generators,
      phases,
      payloadPath,
      workDir: dir,
      label: `alerts-${label}`,
      drainMs: plan.drainMs,
      log,
      onStart: async (atMs) => {
        await new Promise((r) =>
          setTimeout(r, atMs + plan.warmupMs - Date.now())
        );
        before = await engineStats(server.baseUrl);
        const trips = rulesOn
          ? tripDriver(
            server.wsUrl,
            tripHosts,
            degraded,
            plan.sustainMs - 5000,
            sentAt,
          )
          : Promise.resolve();
        await new Promise((r) => setTimeout(r, plan.sustainMs - 500));
        after = await engineStats(server.baseUrl);
        await trips;
      },
    });
    await new Promise((r) => setTimeout(r, 3000)); // the last webhooks
  } finally {
    await server.stop();
    await receiver.shutdown();
  }
  const s0 = run.atMs + plan.warmupMs, s1 = s0 + plan.sustainMs - 500;
  const readings = run.sampler.between(s0, s1);
  const use = usageOver(readings);
  const cpuMs = readings.length >= 2 && use.cpuPercent !== null
    ? (use.cpuPercent / 100) * (readings.at(-1)!.atMs - readings[0].atMs)
    : null;
  const sustained = windowStats(
    run.result,
    plan.warmupMs,
    plan.warmupMs + plan.sustainMs,
  );
  const trips = [...sentAt].flatMap(([host, t]) =>
    arrivals.has(host) ? [arrivals.get(host)! - t] : []
  );
  const b = before as { samples: number; eval_ms: number } | null;
  const a = after as { samples: number; eval_ms: number } | null;
  return {
    rulesOn,
    ackP99: sustained.latencyMs.p99,
    ackedPerSecond: sustained.ackedPerSecond,
    cpuPercent: use.cpuPercent,
    evalMs: a && b ? a.eval_ms - b.eval_ms : null,
    evalSamples: a && b ? a.samples - b.samples : null,
    cpuMs,
    trips,
    tripsSent: sentAt.size,
  };
}

export async function runAlertsBench(
  opts: { quick: boolean; log: (m: string) => void },
): Promise<BenchReport> {
  const begun = beginReport();
  const plan = opts.quick ? QUICK : FULL;
  return await withWorkDir("alerts", opts.log, async (dir) => {
    const off = await runOnce(false, plan, dir, opts.log);
    const on = await runOnce(true, plan, dir, opts.log);
    const share = on.evalMs !== null && on.cpuMs
      ? (100 * on.evalMs) / on.cpuMs
      : null;
    const trip = distribution(on.trips);
    const figures: Figure[] = [
      targetFigure(
        "rule evaluation share of server CPU",
        round(share),
        "%",
        "<=",
        ALERTS_TARGETS.evalCpuShare,
        `${on.evalSamples} samples evaluated in ${on.evalMs} ms over ${
          round((on.cpuMs ?? 0) / 1000)
        } s of server CPU`,
      ),
      baselineFigure(
        "server CPU with the default rules",
        round(on.cpuPercent),
        "% of a core",
        "<=",
        {
          label: "rules off × 1.10",
          value: round((off.cpuPercent ?? 0) * 1.1) ?? 0,
        },
        `rules off: ${
          round(off.cpuPercent)
        } %; A/B runs on a shared machine are noisy`,
      ),
      targetFigure(
        "ack p99 with the default rules",
        on.ackP99,
        "ms",
        "<=",
        INGEST_TARGETS.p99Ms,
      ),
      targetFigure(
        "acked/s with the default rules",
        round(on.ackedPerSecond),
        "samples/s",
        ">=",
        INGEST_TARGETS.ackedPerSecond,
      ),
      targetFigure(
        "trip → webhook p99",
        trip.p99,
        "ms",
        "<=",
        ALERTS_TARGETS.tripToWebhookP99Ms,
        `${on.trips.length} of ${on.tripsSent} trips arrived; p50 ${trip.p50} ms, max ${trip.max} ms`,
      ),
    ];
    if (on.trips.length < on.tripsSent) {
      figures.push(
        targetFigure(
          "trips without a webhook",
          on.tripsSent - on.trips.length,
          "trips",
          "<=",
          0,
        ),
      );
    }
    return finishReport(begun, {
      bench: "alerts",
      quick: opts.quick,
      deviations: [
        "MAX_CONNECTIONS_PER_CLIENT and MAX_PENDING_PER_CLIENT raised to 2000: every agent comes from 127.0.0.1",
        ...(opts.quick
          ? [
            `--quick: ${
              plan.sustainMs / 1000
            } s sustained instead of 60 s, ${plan.trips} trips`,
          ]
          : []),
      ],
      figures,
      details: { plan, off, on: { ...on, trips: undefined }, trip },
      headline: figures.filter((f) => /share|p99/.test(f.name)),
      extra: `${plan.connections} agents at ${OFFERED_PER_SECOND}/s offered`,
    });
  });
}
