/**
 * A real server for tests: temporary SQLite file, 127.0.0.1, a free port,
 * the chosen WebSocket adapter, and log lines kept in memory.
 */
import type { Clock } from "@proxmon/shared/clock";
import {
  resolveServerConfig,
  type ServerConfig,
  type WsAdapterName,
} from "../config.ts";
import { type Database, openDatabase } from "../store/client.ts";
import { createHost } from "../store/hosts.ts";
import { type MemoryLogger, memoryLogger } from "@proxmon/shared/logger";
import { type RunningServer, startServer } from "../server.ts";

export interface TestServer extends AsyncDisposable {
  server: RunningServer;
  config: ServerConfig;
  log: MemoryLogger;
  dir: string;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/agent/ws */
  wsUrl: string;
  /** the server's own database handle */
  database: Database;
  /** Registers a host (as the CLI does) and returns its token. */
  register(name: string): Promise<string>;
  /** A second connection to the same file, as another process would have. */
  openSecondConnection(): Promise<Database>;
}

/** Every test setting that differs from the server's defaults. */
export interface TestServerOptions {
  adapter?: WsAdapterName;
  env?: Record<string, string>;
  clock?: Clock;
}

/** Starts a server on a free port with a fresh database. */
export async function startTestServer(
  opts: TestServerOptions = {},
): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-server-test-" });
  const resolved = resolveServerConfig({
    HOSTNAME: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `file:${dir}/proxmon.db`,
    WS_ADAPTER: opts.adapter ?? "deno",
    // acks at once; sample_writer_test covers the commit window
    INGEST_COMMIT_WINDOW_MS: "0",
    ...opts.env,
  });
  if (!resolved.ok) throw new Error(resolved.error);
  const log = memoryLogger();
  const server = await startServer(resolved.config, { log, clock: opts.clock });
  const url = `http://127.0.0.1:${server.port}`;
  const extra: Database[] = [];
  return {
    server,
    config: resolved.config,
    log,
    dir,
    url,
    wsUrl: `ws://127.0.0.1:${server.port}/agent/ws`,
    database: server.deps.database,
    async register(name) {
      const { token } = await createHost(
        server.deps.database,
        name,
        Date.now(),
      );
      return token;
    },
    async openSecondConnection() {
      const db = await openDatabase(resolved.config.databaseUrl);
      extra.push(db);
      return db;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      for (const db of extra) db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
