/**
 * `bench:edges`: the server under idle-connection floods (issue 12).
 *
 * 1. One address opens connections that send nothing until the server
 *    refuses one: how many it held, and the server's RSS then.
 * 2. The server's own header timeout closes them: how long that took.
 * 3. A second round from that address is closed by the client: how long
 *    until that address is served again.
 * 4. Many addresses together open more than the total cap: /healthz from
 *    another address during the flood, and the RSS at its peak.
 * 5. Frame floods on the agent socket and the RSS after each
 *    (edges_floods.ts), on a server of its own.
 *
 * `BENCH_EDGES_PARTS=idle` or `=floods` runs only one half;
 * `BENCH_EDGES_V8_FLAGS=--expose-gc,...` passes V8 flags to the floods'
 * server, and `BENCH_EDGES_DIAGNOSE=1` makes it collect garbage and trim
 * malloc after each reading (edges_floods.ts).
 */
import { connectRaw, type RawConn } from "../../server/testing/raw_client.ts";
import { SERVER_DEFAULTS } from "../../server/config.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import { readProc } from "./proc_stats.ts";
import { beginReport, type BenchReport, finishReport } from "./report.ts";
import { freePort } from "@proxmon/shared/free_port";
import { startServer } from "./server_process.ts";
import { withWorkDir } from "./work_dir.ts";
import { runFloods } from "./edges_floods.ts";

const MB = 1024 * 1024;
const MAX_CONNECTIONS = 500;
/** how often the TCP front checks its timeouts (server/edge/tcp_front.ts) */
const SWEEP_MS = 1000;
const HEALTH = "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

async function rss(pid: number): Promise<number> {
  const r = await readProc(pid, () => Date.now());
  return r === null ? NaN : r.rssBytes / MB;
}

/** True when the connection was refused (503 or closed at once). */
async function refusedAt(conn: RawConn): Promise<boolean> {
  const closed = await Promise.race([
    conn.closed.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 150)),
  ]);
  return closed || conn.received().startsWith("HTTP/1.1 503");
}

async function healthMs(port: number, from: string): Promise<number | null> {
  const t = performance.now();
  const conn = await connectRaw(port, from);
  conn.socket.write(HEALTH);
  await conn.closed;
  return conn.received().startsWith("HTTP/1.1 200")
    ? performance.now() - t
    : null;
}

/** Parts 1 to 4: idle connections, on a server of their own. */
async function runIdle(
  dir: string,
  floodAddresses: number,
  opts: { log: (msg: string) => void },
): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const headerTimeoutMs = SERVER_DEFAULTS.HEADER_TIMEOUT_MS;
  const port = freePort();
  const server = await startServer({
    dbPath: `${dir}/edges.db`,
    port,
    logPath: `${dir}/edges-server.log`,
    // Below the flood, so the flood meets the total cap too.
    env: { MAX_CONNECTIONS: String(MAX_CONNECTIONS) },
  });
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  try {
    const idleRss = await rss(server.pid);

    // 1. one address until refused
    const held: RawConn[] = [];
    // how long each held connection lived, from connect to the server's close
    const lived: Promise<number>[] = [];
    let refused = false;
    for (let i = 0; i < 10_000 && !refused; i++) {
      const t = performance.now();
      const conn = await connectRaw(port, "127.0.0.2");
      if (await refusedAt(conn)) {
        refused = true;
        conn.socket.destroy();
      } else {
        held.push(conn);
        lived.push(conn.closed.then(() => performance.now() - t));
      }
    }
    const heldRss = await rss(server.pid);
    opts.log(`edges: one address held ${held.length} before refusal`);
    figures.push(targetFigure(
      "idle connections held from one address before refusal",
      held.length,
      "connections",
      "<=",
      SERVER_DEFAULTS.MAX_PENDING_PER_CLIENT,
    ));
    figures.push(baselineFigure(
      "server RSS with them held",
      heldRss,
      "MB",
      "info",
      { label: "RSS idle", value: idleRss },
    ));

    // 2. the header timeout closes them
    const closedAfter = Math.max(...await Promise.all(lived));
    figures.push(targetFigure(
      "longest an idle connection stayed open",
      closedAfter,
      "ms",
      "<=",
      headerTimeoutMs + SWEEP_MS,
    ));

    // 3. recovery once the client lets go
    const again: RawConn[] = [];
    for (let i = 0; i < SERVER_DEFAULTS.MAX_PENDING_PER_CLIENT; i++) {
      again.push(await connectRaw(port, "127.0.0.2"));
    }
    const let_go = performance.now();
    for (const c of again) c.socket.destroy();
    let recovered: number | null = null;
    while (performance.now() - let_go < 5000) {
      if (await healthMs(port, "127.0.0.2") !== null) {
        recovered = performance.now() - let_go;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    figures.push(targetFigure(
      "time to serve that address again after it closes them",
      recovered,
      "ms",
      "<=",
      1000,
    ));

    // 4. many addresses, over the total cap
    const flood: RawConn[] = [];
    const perAddress = SERVER_DEFAULTS.MAX_PENDING_PER_CLIENT - 1;
    const served: number[] = [];
    let failedDuring = 0;
    for (let a = 0; a < floodAddresses; a++) {
      for (let i = 0; i < perAddress; i++) {
        try {
          flood.push(
            await connectRaw(port, `127.0.${10 + (a >> 8)}.${a & 255}`),
          );
        } catch {
          // the kernel's queue was full: the flood outran the loop
        }
      }
      if (a % 10 === 9) {
        const ms = await healthMs(port, "127.0.0.3");
        if (ms === null) failedDuring++;
        else served.push(ms);
      }
    }
    const floodRss = await rss(server.pid);
    const stillOpen = (await Promise.all(
      flood.map((c) =>
        Promise.race([
          c.closed.then(() => 0),
          new Promise<number>((r) => setTimeout(() => r(1), 20)),
        ])
      ),
    )).reduce((a, b) => a + b, 0);
    details.flood = {
      addresses: floodAddresses,
      opened: flood.length,
      stillOpenAtEnd: stillOpen,
      healthChecks: served.length + failedDuring,
      healthFailed: failedDuring,
      healthMaxMs: Math.round(Math.max(...served)),
    };
    opts.log(`edges: flood ${JSON.stringify(details.flood)}`);
    figures.push(targetFigure(
      `health checks failed during a ${flood.length}-connection flood from ${floodAddresses} addresses`,
      failedDuring,
      "checks",
      "<=",
      0,
    ));
    figures.push(targetFigure(
      "slowest health check during that flood",
      served.length ? Math.max(...served) : null,
      "ms",
      "<=",
      1000,
    ));
    figures.push(baselineFigure(
      "server RSS at the flood's peak",
      floodRss,
      "MB",
      "info",
      { label: "RSS idle", value: idleRss },
    ));
    for (const c of flood) c.socket.destroy();
  } finally {
    details.exitCode = await server.stop();
  }
  return { figures, details };
}

/** Runs the edge benchmark. */
export async function runEdgesBench(
  opts: { quick: boolean; log: (msg: string) => void },
): Promise<BenchReport> {
  const begun = beginReport();
  const floodAddresses = opts.quick ? 50 : 200;
  const parts = (Deno.env.get("BENCH_EDGES_PARTS") ?? "idle,floods").split(",");
  const v8Flags = (Deno.env.get("BENCH_EDGES_V8_FLAGS") ?? "").split(",")
    .filter(Boolean);
  return await withWorkDir("edges", opts.log, async (dir) => {
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    if (parts.includes("idle")) {
      const idle = await runIdle(dir, floodAddresses, opts);
      figures.push(...idle.figures);
      details.idle = idle.details;
    }
    if (parts.includes("floods")) {
      const floods = await runFloods({
        dir,
        log: opts.log,
        settleMs: 60_000,
        v8Flags,
        diagnose: Deno.env.get("BENCH_EDGES_DIAGNOSE") === "1",
      });
      figures.push(...floods.figures);
      details.floods = floods.details;
    }
    return finishReport(begun, {
      bench: "edges",
      quick: opts.quick,
      deviations: [
        `MAX_CONNECTIONS=${MAX_CONNECTIONS}, so the flood exceeds it`,
        ...(opts.quick
          ? [`flood from ${floodAddresses} addresses instead of 200`]
          : []),
      ],
      figures,
      details,
      headline: figures.slice(0, 4),
    });
  });
}
