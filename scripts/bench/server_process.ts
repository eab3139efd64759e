/**
 * The real proxmon server as a child process on 127.0.0.1, the way it runs in
 * production: `deno run -A server/main.ts`, configured only through env.
 */
import { freePort } from "@proxmon/shared/free_port";
import { pumpToFile } from "./child_log.ts";
import { REPO_ROOT } from "./paths.ts";

/**
 * The per-client caps of the TCP front (server/edge/) are there for hostile
 * clients; a bench fleet's agents all come from 127.0.0.1, so fleets raise
 * them (the edges bench measures the defaults and does not pass this).
 */
export const LOOPBACK_FLEET_ENV = {
  MAX_CONNECTIONS_PER_CLIENT: "2000",
  MAX_PENDING_PER_CLIENT: "2000",
} as const;

export interface ServerOptions {
  /** the entry script; `server/main.ts` unless a bench wraps the server */
  entry?: string;
  dbPath: string;
  /** a free one unless given */
  port?: number;
  /** WS_ADAPTER: which WebSocket upgrade the server uses */
  adapter?: "deno" | "node";
  retentionHours?: number;
  /** where the server's stdout and stderr go */
  logPath: string;
  env?: Record<string, string>;
  /** more `deno run` flags before the entry (V8 flags for a diagnosis) */
  denoArgs?: string[];
}

export interface ServerProcess {
  pid: number;
  baseUrl: string;
  wsUrl: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/**
 * The deno arguments `deno task serve` runs the server with (permissions
 * and V8's heap flags), from deno.json, so a benchmark measures the server
 * as it ships.
 */
export function serveArgs(command: string): string[] {
  const words = command.split(/\s+/).filter(Boolean);
  const from = words.indexOf("run") + 1, to = words.indexOf("server/main.ts");
  if (from === 0 || to < from) {
    throw new Error(
      `deno.json: the serve task is not "deno run … server/main.ts"`,
    );
  }
  return words.slice(from, to);
}

/** Starts the server and waits until it answers HTTP, or throws. */
export async function startServer(
  opts: ServerOptions,
  readyTimeoutMs = 30_000,
): Promise<ServerProcess> {
  // BENCH_CPU_PROF=DIR writes each server's V8 CPU profile there (read it
  // with Chrome's DevTools), to see where a benchmark's time goes.
  const profDir = Deno.env.get("BENCH_CPU_PROF");
  const port = opts.port ?? freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...serveArgs(
        JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`)).tasks
          .serve.command,
      ),
      ...(profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []),
      ...opts.denoArgs ?? [],
      // BENCH_SERVER_FLAGS="--v8-flags=--trace-gc": more flags for every
      // server a benchmark starts, for a diagnosis (with BENCH_KEEP=1).
      ...(Deno.env.get("BENCH_SERVER_FLAGS")?.split(" ").filter(Boolean) ??
        []),
      opts.entry ?? Deno.env.get("BENCH_SERVER_ENTRY") ?? "server/main.ts",
    ],
    cwd: REPO_ROOT,
    env: {
      PORT: String(port),
      DATABASE_URL: `file:${opts.dbPath}`,
      PROXMON_ENV: "development",
      HOSTNAME: "127.0.0.1",
      ...(opts.adapter ? { WS_ADAPTER: opts.adapter } : {}),
      ...(opts.retentionHours !== undefined
        ? { RETENTION_HOURS: String(opts.retentionHours) }
        : {}),
      ...opts.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pumps = pumpToFile([child.stdout, child.stderr], opts.logPath);
  const baseUrl = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    pid: child.pid,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/agent/ws`,
    async stop(graceMs = 15_000) {
      try {
        child.kill("SIGTERM");
      } catch (err) {
        if (!(err instanceof TypeError)) throw err; // already exited
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
        }
      }, graceMs);
      const status = await child.status;
      clearTimeout(timer);
      await pumps;
      return status.code;
    },
  };
  const deadline = performance.now() + readyTimeoutMs;
  let exited = false;
  child.status.then(() => exited = true);
  while (performance.now() < deadline && !exited) {
    try {
      const res = await fetch(`${baseUrl}/api/hosts`);
      await res.body?.cancel();
      return server;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // connection refused
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await server.stop(2_000);
  const tail = (await Deno.readTextFile(opts.logPath)).slice(-2_000);
  throw new Error(
    `server did not answer on ${baseUrl} within ${readyTimeoutMs} ms` +
      ` (log ${opts.logPath}):\n${tail}`,
  );
}

export interface FleetServerOptions extends Omit<ServerOptions, "port"> {
  /** names the server in the bench's log lines: "ingest/deno" */
  label: string;
  log: (msg: string) => void;
}

/**
 * The server for a bench fleet, whose agents all come from 127.0.0.1: on a
 * free port, with {@link LOOPBACK_FLEET_ENV} under `opts.env`. It logs its
 * pid, and its `stop()` logs a non-zero exit code.
 */
export async function startFleetServer(
  opts: FleetServerOptions,
): Promise<ServerProcess> {
  const { label, log, ...rest } = opts;
  const server = await startServer({
    ...rest,
    env: { ...LOOPBACK_FLEET_ENV, ...opts.env },
  });
  log(`${label}: server pid ${server.pid} on ${server.baseUrl}`);
  return {
    ...server,
    async stop(graceMs) {
      const code = await server.stop(graceMs);
      if (code !== 0) log(`${label}: server exited with ${code}`);
      return code;
    },
  };
}
