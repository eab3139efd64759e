/**
 * The time-series store, end to end, in one run on the 50-guest profile at
 * the default intervals (fast 10 s, medium 60 s, slow 30 min):
 *
 * 1. replay: hosts push a day of samples each through the real socket of a
 *    real server process (compaction and rollups every 2 s meanwhile): first
 *    paced at 2,000 samples/s in total, then as fast as acks come (the
 *    ceiling). Ack latency, lost samples, the server's write_bytes.
 * 2. steady: 50 hosts at the real intervals for a while, on a database of
 *    their own, the server's write_bytes per host per day of steady ingest.
 * 3. stored bytes of the replays' database after a clean stop (file + WAL),
 *    per host per day, by tier.
 * 4. rollups for a year: one host's hourly tier for 365 days and 1-minute
 *    tier for 30 days, written from that host's real day (with noise), and
 *    the history queries: 48 h host CPU and 1 y at 1,000 points, a guest's
 *    7 days.
 */
import type { Interval } from "@proxmon/shared";
import { openDatabase } from "../../server/store/client.ts";
import { findHost } from "../../server/store/hosts.ts";
import { type HistoryQuery, loadHistory } from "../../server/store/history.ts";
import { listSeries } from "../../server/store/series_query.ts";
import { readTier } from "../../server/store/series_read.ts";
import { bucketize, type Rollup } from "../../server/store/rollup.ts";
import { metricSpec } from "../../server/store/series_catalog.ts";
import { writeSeriesHistory } from "../../server/store/backfill.ts";
import { readHostCpu } from "../../server/testing/series_samples.ts";
import { intervalOfSeries } from "../../server/store/compaction.ts";
import { registerBenchHosts } from "./bench_hosts.ts";
import { type BenchHost, joinFrame } from "./load_plan.ts";
import { startFleetServer } from "./server_process.ts";
import { hostStream, prng } from "./store_samples.ts";
import { type Figure, targetFigure } from "./figure.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { distribution } from "./stats.ts";
import { sqliteBytes, withWorkDir } from "./work_dir.ts";

const DAY = 86_400_000;
const MB = 1_000_000;

interface Options {
  quick: boolean;
  log: (msg: string) => void;
}

/** write_bytes of a process, from /proc/<pid>/io. */
async function writeBytes(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/io`);
  return Number(/^write_bytes:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
}

/** One agent connection that sends samples and counts acks. */
class Agent {
  ws!: WebSocket;
  sentAt = new Map<number, number>();
  latencies: number[] = [];
  acked = new Set<number>();
  nacks = 0;
  private nextRef = 1;
  private waiters: (() => void)[] = [];

  static async join(wsUrl: string, host: BenchHost): Promise<Agent> {
    const a = new Agent();
    a.ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      a.ws.onopen = () => a.ws.send(joinFrame(host));
      a.ws.onerror = () => reject(new Error(`${host.name}: socket error`));
      a.ws.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data));
        if (msg.type === "joined") {
          a.ws.onmessage = (e) => a.onMessage(JSON.parse(String(e.data)));
          resolve();
        } else reject(new Error(`${host.name}: ${ev.data}`));
      };
    });
    return a;
  }

  private onMessage(msg: { type: string; ref?: number }) {
    if (msg.ref === undefined) return;
    const at = this.sentAt.get(msg.ref);
    if (at === undefined) return;
    this.sentAt.delete(msg.ref);
    if (msg.type === "ack") {
      this.acked.add(msg.ref);
      this.latencies.push(performance.now() - at);
    } else this.nacks++;
    this.waiters.shift()?.();
  }

  get inFlight(): number {
    return this.sentAt.size;
  }

  /** Resolves when one more reply arrived. */
  reply(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  send(interval: Interval, atMs: number, data: unknown): number {
    const ref = this.nextRef++;
    this.sentAt.set(ref, performance.now());
    this.ws.send(JSON.stringify({
      type: "sample",
      ref,
      interval,
      collected_at: new Date(atMs).toISOString(),
      data,
    }));
    return ref;
  }

  async drain() {
    while (this.inFlight > 0) await this.reply();
  }
}

/** The samples of one host over [fromMs, toMs) at the default intervals. */
function* daySchedule(fromMs: number, toMs: number) {
  for (let t = fromMs; t < toMs; t += 10_000) {
    yield { interval: "fast" as const, at: t };
    if ((t - fromMs) % 60_000 === 0) {
      yield { interval: "medium" as const, at: t + 1 };
    }
    if ((t - fromMs) % 1_800_000 === 0) {
      yield { interval: "slow" as const, at: t + 2 };
    }
  }
}

interface ReplayResult {
  samples: number;
  acked: number;
  nacks: number;
  seconds: number;
  rate: number;
  p99: number;
  p50: number;
  writeBytes: number;
}

/**
 * Every host replays [fromMs, toMs). `rate` paces all hosts together
 * (samples per second); null sends as fast as a window of 32 in flight
 * per host allows.
 */
async function replay(
  wsUrl: string,
  pid: number,
  hosts: BenchHost[],
  fromMs: number,
  toMs: number,
  rate: number | null,
): Promise<ReplayResult> {
  const agents = await Promise.all(hosts.map((h) => Agent.join(wsUrl, h)));
  const streams = await Promise.all(hosts.map((_, i) => hostStream(1000 + i)));
  const w0 = await writeBytes(pid);
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(agents.map(async (agent, i) => {
    for (const s of daySchedule(fromMs, toMs)) {
      const data = streams[i].next(s.interval, s.at);
      if (rate !== null) {
        // Pace: this host's share of `rate`.
        const due = t0 + (sent / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      while (agent.inFlight >= 32) await agent.reply();
      agent.send(s.interval, s.at, data);
      sent++;
    }
    await agent.drain();
  }));
  const seconds = (performance.now() - t0) / 1000;
  const w1 = await writeBytes(pid);
  for (const a of agents) a.ws.close();
  const lat = agents.flatMap((a) => a.latencies);
  return {
    samples: sent,
    acked: agents.reduce((n, a) => n + a.acked.size, 0),
    nacks: agents.reduce((n, a) => n + a.nacks, 0),
    seconds,
    rate: sent / seconds,
    // percentile() wants sorted samples and a fraction: given neither, it
    // returned the last ack's latency for both.
    p99: distribution(lat).p99 ?? NaN,
    p50: distribution(lat).p50 ?? NaN,
    writeBytes: w1 - w0,
  };
}

/**
 * Copies the WAL into the database file from this process, and returns the
 * bytes that cost this process (its write_bytes). SQLite lets a second
 * connection checkpoint a WAL database while the server writes.
 */
async function checkpointFromHere(dbPath: string): Promise<number> {
  const before = await writeBytes(Deno.pid);
  const database = await openDatabase(`file:${dbPath}`);
  try {
    // TRUNCATE waits for the server's writer; a busy answer is retried.
    for (let i = 0; i < 50; i++) {
      const rs = await database.client.execute(
        "PRAGMA wal_checkpoint(TRUNCATE)",
      );
      if (Number(rs.rows[0].busy) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    database.close();
  }
  return await writeBytes(Deno.pid) - before;
}

/**
 * 50 hosts at the real default intervals for `ms`; write_bytes per host per
 * day. The window is bracketed by checkpoints: the first flushes what the
 * warm-up wrote (the first samples' series, states and latest rows), the
 * last copies what the window left in the WAL into the file, and that copy
 * is counted. Without them a window of a minute or two held one of the
 * server's own 1 MiB auto-checkpoints or none, and the figure moved between
 * 41 and 293 MB (quick runs, 10 hosts for 30 s).
 */
export async function steady(
  wsUrl: string,
  pid: number,
  dbPath: string,
  hosts: BenchHost[],
  ms: number,
) {
  const agents = await Promise.all(hosts.map((h) => Agent.join(wsUrl, h)));
  const streams = await Promise.all(hosts.map((_, i) => hostStream(5000 + i)));
  // The first samples of each host create its series, states and latest
  // rows; that happens once in a host's life, so it is not measured. Two
  // fast ones: guest rates (and their series) need a previous sample.
  const warm = Date.now() - 20_000;
  await Promise.all(agents.map((a, i) => {
    a.send("fast", warm, streams[i].next("fast", warm));
    a.send("medium", warm + 1, streams[i].next("medium", warm));
    a.send("fast", warm + 10_000, streams[i].next("fast", warm + 10_000));
    return a.drain();
  }));
  await checkpointFromHere(dbPath);
  const start = Date.now() + 1000;
  const w0 = await writeBytes(pid);
  const t0 = performance.now();
  const rnd = prng(7);
  // Each host starts its cycle at its own moment within the first 10 s.
  await Promise.all(agents.map(async (agent, i) => {
    const offset = Math.floor(rnd() * 10_000);
    for (let k = 0;; k++) {
      const at = start + offset + k * 10_000;
      if (at > start + ms) break;
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      agent.send("fast", at, streams[i].next("fast", at));
      if (k % 6 === 0) {
        agent.send("medium", at + 1, streams[i].next("medium", at));
      }
    }
    await agent.drain();
  }));
  const seconds = (performance.now() - t0) / 1000;
  const w1 = await writeBytes(pid);
  const checkpointBytes = await checkpointFromHere(dbPath);
  for (const a of agents) a.ws.close();
  const written = w1 - w0 + checkpointBytes;
  const perHostDay = written / hosts.length * (86_400 / seconds);
  return {
    seconds,
    writeBytes: written,
    /** of writeBytes: the closing checkpoint's copy of the window's WAL */
    checkpointBytes,
    perHostDay,
    p99: distribution(agents.flatMap((a) => a.latencies)).p99,
  };
}

async function timeQueries(
  label: string,
  runs: number,
  q: () => Promise<{ data: (number | null)[][] }>,
) {
  const ms: number[] = [];
  let points = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const h = await q();
    ms.push(performance.now() - t);
    points = h.data[0].length;
  }
  return { label, points, ...distribution(ms) };
}

export async function runStoreBench(opts: Options): Promise<BenchReport> {
  const begun = beginReport();
  const { log, quick } = opts;
  const replayHosts = 1;
  const hours = quick ? 6 : 24;
  const steadyHosts = quick ? 10 : 50;
  const steadyMs = quick ? 30_000 : 120_000;
  return await withWorkDir("store", log, async (dir) => {
    const dbPath = `${dir}/proxmon.db`;
    const now = Date.now();
    // The replayed days end an hour ago; windows close, compaction runs.
    const dayEnd = Math.floor((now - 3_600_000) / 60_000) * 60_000;
    const dayStart = dayEnd - hours * 3_600_000;
    const paced = await registerBenchHosts(dbPath, "paced-", 1, now);
    let steadyRun: Awaited<ReturnType<typeof steady>>;
    // Replays with maintenance every 2 s, so it runs while they ingest; one
    // server per replay, so the first leaves one host's day alone in the
    // file for the "after a clean stop" figure.
    const replayOn = async (
      hosts: BenchHost[],
      rate: number | null,
      logName: string,
    ) => {
      const server = await startFleetServer({
        label: "store",
        log,
        dbPath,
        logPath: `${dir}/${logName}.log`,
        env: { STORE_MAINTENANCE_MS: "2000" },
      });
      try {
        return await replay(
          server.wsUrl,
          server.pid,
          hosts,
          dayStart,
          dayEnd,
          rate,
        );
      } finally {
        await server.stop();
      }
    };
    log(`store: one host replays ${hours} h paced at 2,000 samples/s`);
    const pacedRun = await replayOn(paced, 2000, "server");
    log(
      `store: paced ${pacedRun.rate.toFixed(0)}/s p99 ${
        pacedRun.p99.toFixed(0)
      } ms`,
    );
    const oneHostDayBytes = await sqliteBytes(dbPath);
    // BENCH_STORE_SAVE_DB=DIR keeps copies of the database, to study it.
    const saveDir = Deno.env.get("BENCH_STORE_SAVE_DB");
    if (saveDir) await Deno.copyFile(dbPath, `${saveDir}/day.db`);
    const ceiling = await registerBenchHosts(dbPath, "ceil-", 1, now);
    // Steady ingest gets a database of its own. On the replays' file, the
    // steady server's first maintenance pass (right at start, with the full
    // rollup lookback) built the replayed days' rollups and checkpointed
    // them inside the window, and those writes were counted as steady
    // ingest's (stop 13: 89 MB/host-day in full runs, 46 in quick ones).
    const steadyDbPath = `${dir}/steady.db`;
    const live = await registerBenchHosts(
      steadyDbPath,
      "live-",
      steadyHosts,
      now,
    );
    const ceilingRun = await replayOn(ceiling, null, "server-ceiling");
    log(
      `store: ceiling ${ceilingRun.rate.toFixed(0)}/s p99 ${
        ceilingRun.p99.toFixed(0)
      } ms`,
    );
    // Steady ingest on a server as deployed (default maintenance schedule).
    const server2 = await startFleetServer({
      label: "store",
      log,
      dbPath: steadyDbPath,
      logPath: `${dir}/server-steady.log`,
    });
    try {
      log(
        `store: ${steadyHosts} hosts at real intervals for ${
          steadyMs / 1000
        } s`,
      );
      steadyRun = await steady(
        server2.wsUrl,
        server2.pid,
        steadyDbPath,
        live,
        steadyMs,
      );
    } finally {
      await server2.stop();
    }
    const serverLog = await Deno.readTextFile(`${dir}/server.log`);
    const stoppedBytes = await sqliteBytes(dbPath);

    // What is stored: per tier, and the replayed hosts' share.
    const database = await openDatabase(`file:${dbPath}`);
    try {
      const tiers = await database.client.execute(
        `SELECT tier, COUNT(*) AS n, SUM(length(data)) AS bytes FROM series_blocks GROUP BY tier`,
      );
      const head = await database.client.execute(
        "SELECT COUNT(*) AS n, SUM(length(points)) AS bytes FROM series_head",
      );
      // Lost: acked fast samples whose host CPU point is missing.
      const lost: number[] = [];
      for (const h of [...paced, ...ceiling]) {
        const host = (await findHost(database, h.name))!;
        const points = await readHostCpu(database, host.id, dayStart, dayEnd);
        lost.push(hours * 360 - points.length);
      }
      const hostDays = (2 * replayHosts * hours) / 24;
      const storedPerHostDay = stoppedBytes / hostDays;

      // A year of rollups for the first replayed host, from its real day.
      const host = (await findHost(database, paced[0].name))!;
      const all = await listSeries(database, host.id);
      const rnd = prng(42);
      const before = await sqliteBytes(dbPath);
      const t0 = performance.now();
      for (const s of all) {
        const interval = intervalOfSeries(s.kind, s.metric);
        const day = (await readTier(
          database,
          { hostId: host.id, interval, ids: [s.id] },
          1,
          dayStart,
          dayEnd,
        )).get(s.id)!;
        if (day.t.length === 0) continue;
        const hourly = bucketize(day, 0, 3_600_000);
        // readTier gives scaled integers; writeSeriesHistory takes real units.
        const unit = 10 ** metricSpec(s).precision;
        const repeat = (src: Rollup, days: number, step: number): Rollup => {
          const out: Rollup = {
            t: [],
            min: [],
            avg: [],
            max: [],
            last: [],
            n: [],
          };
          for (let d = days; d >= 1; d--) {
            for (let i = 0; i < src.t.length; i++) {
              const t = Math.floor((src.t[i] - d * DAY) / step) * step;
              const k = (1 + 0.05 * (rnd() - 0.5)) / unit;
              out.t.push(t);
              out.min.push(src.min[i] * k);
              out.avg.push(src.avg[i] * k);
              out.max.push(src.max[i] * k);
              out.last.push(src.last[i] * k);
              out.n.push(src.n[i]);
            }
          }
          return out;
        };
        await writeSeriesHistory(
          database,
          host.id,
          s,
          2,
          repeat(hourly, 365, 3_600_000),
        );
        await writeSeriesHistory(
          database,
          host.id,
          s,
          1,
          repeat(day, 30, 60_000),
        );
      }
      await database.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
      if (saveDir) await Deno.copyFile(dbPath, `${saveDir}/year.db`);
      const backfillS = (performance.now() - t0) / 1000;
      const perTier = await database.client.execute({
        sql:
          `SELECT b.tier, SUM(length(b.data)) AS bytes, COUNT(*) AS n FROM series_blocks b
         JOIN series s ON s.id = b.series_id WHERE s.host_id = ? GROUP BY b.tier`,
        args: [host.id],
      });
      const tierOf = (t: number) => {
        const r = perTier.rows.find((x) => Number(x.tier) === t);
        return r
          ? { bytes: Number(r.bytes), blocks: Number(r.n) }
          : { bytes: 0, blocks: 0 };
      };
      // Row overhead in SQLite beside the blob bytes: measured from the file.
      const after = await sqliteBytes(dbPath);
      const yearOfRollups = tierOf(2).bytes;

      // History queries, in-process on the file (the API's own function).
      const runs = quick ? 30 : 200;
      const at = dayEnd;
      // The window ends at the day's end; `vmid` makes it a guest's series.
      const history = (
        label: string,
        runs: number,
        { spanMs, ...q }: Pick<HistoryQuery, "metric" | "vmid" | "points"> & {
          spanMs: number;
        },
      ) =>
        timeQueries(label, runs, () =>
          loadHistory(database, {
            hostId: host.id,
            ...q,
            fromMs: at - spanMs,
            toMs: at,
            nowMs: at,
          }));
      const q48 = await history("48h host cpu, 1000 points", runs, {
        metric: "cpu",
        spanMs: 2 * DAY,
        points: 1000,
      });
      const q1y = await history("1y host cpu, 1000 points", runs, {
        metric: "cpu",
        spanMs: 365 * DAY,
        points: 1000,
      });
      const q7g = await history("7d guest cpu, 1000 points", runs, {
        metric: "guest_cpu",
        vmid: 100,
        spanMs: 7 * DAY,
        points: 1000,
      });
      const q24 = await history("24h host cpu", 5, {
        metric: "cpu",
        spanMs: DAY,
        points: 300,
      });
      const q24g = await history("24h guest_cpu", 5, {
        metric: "guest_cpu",
        vmid: 101,
        spanMs: DAY,
        points: 300,
      });

      const replayWrite = (pacedRun.writeBytes + ceilingRun.writeBytes) /
        ((2 * replayHosts * hours) / 24);
      const rawBlockBytes = Number(
        tiers.rows.find((r) => Number(r.tier) === 0)?.bytes ?? 0,
      );
      const figures: Figure[] = [
        targetFigure(
          "database after one host's day and a clean stop (file + WAL)",
          round(oneHostDayBytes / MB, 2),
          "MB",
          "<=",
          5 * hours / 24,
          `${hours} h of one host through the socket; the clean stop compacts the open 2-hour window into blocks`,
        ),
        targetFigure(
          "raw blocks per host per day (blob bytes)",
          round(rawBlockBytes / ((2 * replayHosts * hours) / 24) / MB, 2),
          "MB",
          "<=",
          5,
        ),
        targetFigure(
          "stored bytes per host per day (raw tier, after a clean stop)",
          round(storedPerHostDay / MB, 2),
          "MB",
          "<=",
          5,
          `file + WAL ${stoppedBytes} B over ${
            hostDays.toFixed(2)
          } host-days; includes that day's rollups, latest state, state changes, head`,
        ),
        targetFigure(
          "hourly rollups, one host, one year",
          round(yearOfRollups / MB, 2),
          "MB",
          "<=",
          10,
          `blob bytes of ${
            tierOf(2).blocks
          } blocks; the 1-minute tier for 30 days is ${
            round(tierOf(1).bytes / MB, 2)
          } MB more`,
        ),
        targetFigure(
          "bytes written per host per day, steady ingest (50 hosts, real intervals)",
          round(steadyRun.perHostDay / MB, 1),
          "MB",
          "<=",
          50,
          `${steadyRun.writeBytes} B in ${
            steadyRun.seconds.toFixed(0)
          } s (${steadyRun.checkpointBytes} B of it the closing checkpoint); compaction and rollups of the day not in this window`,
        ),
        targetFigure(
          "bytes written per host per day, day replay (ingest + compaction + rollups)",
          round(replayWrite / MB, 1),
          "MB",
          "<=",
          50,
          "compressed time: bigger batches than real life",
        ),
        targetFigure(
          "ingest, paced, while compaction and rollups run",
          round(pacedRun.rate, 0),
          "samples/s",
          ">=",
          2000,
        ),
        targetFigure(
          "ingest p99 ack at that rate",
          round(pacedRun.p99, 0),
          "ms",
          "<=",
          250,
        ),
        targetFigure(
          "lost samples",
          lost.reduce((a, b) => a + b, 0) + pacedRun.nacks + ceilingRun.nacks +
            (pacedRun.samples - pacedRun.acked) +
            (ceilingRun.samples - ceilingRun.acked),
          "samples",
          "<=",
          0,
        ),
        targetFigure(
          "ingest ceiling (32 in flight per host)",
          round(ceilingRun.rate, 0),
          "samples/s",
          ">=",
          4891,
          `p99 ack ${
            round(ceilingRun.p99, 0)
          } ms; 4,891/s was the old store's ceiling with 5-guest payloads`,
        ),
        historyFigure("48 h host CPU", q48, 20),
        historyFigure("1 y host CPU", q1y, 50),
        historyFigure("a guest's 7 days", q7g, 20),
      ];
      return finishReport(begun, {
        bench: "store",
        quick,
        deviations: [
          ...(quick
            ? [
              `--quick: ${hours} h replayed, ${steadyHosts} steady hosts for ${
                steadyMs / 1000
              } s`,
            ]
            : []),
          "hosts replay their day in compressed time; the year of rollups is written from the first host's real day (hourly and 1-minute entries with ±2.5 % noise)",
        ],
        figures,
        details: {
          paced: pacedRun,
          ceiling: ceilingRun,
          steady: steadyRun,
          lostPerHost: lost,
          stoppedBytes,
          oneHostDayBytes,
          tiers: tiers.rows.map((r) => ({
            tier: Number(r.tier),
            blocks: Number(r.n),
            bytes: Number(r.bytes),
          })),
          head: {
            rows: Number(head.rows[0].n),
            bytes: Number(head.rows[0].bytes ?? 0),
          },
          backfill: {
            seconds: backfillS,
            fileBefore: before,
            fileAfter: after,
          },
          queries: [q48, q1y, q7g, q24, q24g],
          doneWhen: {
            "24h host cpu points": q24.points,
            "24h guest_cpu points": q24g.points,
          },
          serverLogTail: serverLog.split("\n").filter((l) =>
            l.includes("store:")
          ).slice(-5),
        },
        headline: [
          figures[0],
          figures[4],
          figures[6],
          figures[7],
          figures[10],
          figures[11],
        ],
      });
    } finally {
      database.close();
    }
  });
}

/** A history query's p99 against its target, in ms. */
function historyFigure(
  what: string,
  q: { p99: number | null; points: number },
  targetMs: number,
): Figure {
  return targetFigure(
    `history ${what}, 1000 points, p99`,
    round(q.p99, 1),
    "ms",
    "<=",
    targetMs,
    `${q.points} points`,
  );
}

function round(x: number | null, digits: number): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
