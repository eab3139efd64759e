/**
 * Real Prometheus and VictoriaMetrics processes from Debian's packages, on
 * 127.0.0.1 with their own temporary storage, for the export tests. The
 * binaries are found where the packages install them; without them the
 * tests fail saying which package to install (.ci/run installs both).
 */
import { freePort } from "@proxmon/shared/free_port";

// Re-exported: the export tests take it from here with the servers.
export { freePort };

/** Where Debian's packages put the binaries. */
export const TSDB_BINARIES = {
  prometheus: { path: "/usr/bin/prometheus", pkg: "prometheus" },
  promtool: { path: "/usr/bin/promtool", pkg: "prometheus" },
  victoriaMetrics: {
    path: "/usr/bin/victoria-metrics",
    pkg: "victoria-metrics",
  },
} as const;

/** The binary's path, or an error naming the package that provides it. */
export function requireBinary(which: keyof typeof TSDB_BINARIES): string {
  const { path, pkg } = TSDB_BINARIES[which];
  try {
    Deno.statSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Error(
      `${path} is missing: these tests need Debian's ${pkg} package (apt-get install ${pkg}; .ci/run installs it)`,
    );
  }
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntilOk(
  url: string,
  child: Deno.ChildProcess,
  what: string,
) {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what} exited while starting`);
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.ok) return;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not get ready at ${url} within 30 s`);
}

export interface TsdbProcess extends AsyncDisposable {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** the process id (benchmarks read its CPU time) */
  pid: number;
  /** SIGTERM, then wait for the exit */
  stop(): Promise<void>;
}

function spawn(path: string, args: string[], logPath: string) {
  const child = new Deno.Command(path, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Keep the logs for a failing test to read, without filling a pipe.
  const save = Promise.all(
    ([[child.stdout, "out"], [child.stderr, "err"]] as const).map(
      async ([stream, ext]) => {
        const file = await Deno.open(`${logPath}.${ext}`, {
          write: true,
          create: true,
          append: true,
        });
        await stream.pipeTo(file.writable);
      },
    ),
  );
  let stopped: Promise<void> | null = null;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch (err) {
        if (!(err instanceof TypeError)) throw err; // already exited
      }
      await child.status;
      await save.catch(() => {});
    })();
  return { child, stop };
}

/**
 * Spawns the binary listening on `port` and waits until `readyPath`
 * answers 200; stops it again if it does not get there.
 */
async function spawnReady(
  what: string,
  path: string,
  args: string[],
  logPath: string,
  port: number,
  readyPath: string,
): Promise<TsdbProcess> {
  const { child, stop } = spawn(path, args, logPath);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilOk(`${url}${readyPath}`, child, what);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, pid: child.pid, stop, [Symbol.asyncDispose]: stop };
}

export interface PrometheusOptions {
  dir: string;
  /** host:port of the proxmon to scrape */
  target: string;
  bearerToken?: string;
  scrapeIntervalSeconds?: number;
}

export interface PrometheusProcess extends TsdbProcess {
  /** An instant PromQL query; returns `data.result`. */
  query(promql: string): Promise<
    { metric: Record<string, string>; value: [number, string] }[]
  >;
}

/** Starts Prometheus scraping `target`'s /metrics. */
export async function startPrometheus(
  opts: PrometheusOptions,
): Promise<PrometheusProcess> {
  const bin = requireBinary("prometheus");
  const port = freePort();
  const interval = `${opts.scrapeIntervalSeconds ?? 1}s`;
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    "scrape_configs:",
    "  - job_name: proxmon",
    `    scrape_interval: ${interval}`,
    ...(opts.bearerToken
      ? ["    authorization:", `      credentials: ${opts.bearerToken}`]
      : []),
    "    static_configs:",
    `      - targets: ["${opts.target}"]`,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${opts.dir}/prometheus.yml`, config);
  const started = await spawnReady(
    "prometheus",
    bin,
    [
      `--config.file=${opts.dir}/prometheus.yml`,
      `--storage.tsdb.path=${opts.dir}/prometheus-data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    `${opts.dir}/prometheus`,
    port,
    "/-/ready",
  );
  return {
    ...started,
    async query(promql) {
      const res = await fetch(
        `${started.url}/api/v1/query?query=${encodeURIComponent(promql)}`,
      );
      const body = await res.json();
      if (body.status !== "success") {
        throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
      }
      return body.data.result;
    },
  };
}

export interface VictoriaMetricsProcess extends TsdbProcess {
  /** `/api/v1/export` for a series selector, one JSON object per series. */
  exportSeries(match: string): Promise<
    { metric: Record<string, string>; values: number[]; timestamps: number[] }[]
  >;
}

/**
 * Starts VictoriaMetrics on `port` (a fresh one by default) with its data
 * in `dataDir`; start it again on the same port and directory to model a
 * restart.
 */
export async function startVictoriaMetrics(
  /** `logPath`.out and .err get the process's output */
  opts: { dataDir: string; logPath: string; port?: number; args?: string[] },
): Promise<VictoriaMetricsProcess> {
  const bin = requireBinary("victoriaMetrics");
  const port = opts.port ?? freePort();
  const started = await spawnReady(
    "victoria-metrics",
    bin,
    [
      `-storageDataPath=${opts.dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      "-retentionPeriod=100y",
      ...(opts.args ?? []),
    ],
    opts.logPath,
    port,
    "/health",
  );
  const { url } = started;
  return {
    ...started,
    async exportSeries(match) {
      // Recent rows sit in memory for a few seconds; flush so export sees them.
      await (await fetch(`${url}/internal/force_flush`)).body?.cancel();
      const res = await fetch(
        `${url}/api/v1/export?match[]=${encodeURIComponent(match)}`,
      );
      const text = await res.text();
      if (!res.ok) throw new Error(`export failed: ${res.status} ${text}`);
      return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    },
  };
}
