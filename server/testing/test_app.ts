/**
 * The app over a temporary database, for route tests through `app.request()`
 * with no socket.
 */
import type { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { createApp } from "../app.ts";
import { systemClock } from "@proxmon/shared/clock";
import { resolveServerConfig } from "../config.ts";
import { type AppDeps, createAppDeps } from "../app_deps.ts";
import { type MemoryLogger, memoryLogger } from "@proxmon/shared/logger";
import { openTempDatabase, type TempDatabase } from "./temp_db.ts";

export interface TestApp extends AsyncDisposable {
  app: Hono;
  deps: AppDeps;
  db: TempDatabase;
  log: MemoryLogger;
}

/**
 * Builds the app with every dependency real except the HTTP listener.
 * `shutdown` stands in for the server's stop signal.
 */
export async function createTestApp(
  shutdown: AbortSignal = new AbortController().signal,
  /** settings over the tests' ones, as environment variables */
  env: Record<string, string> = {},
): Promise<TestApp> {
  const db = await openTempDatabase();
  // Acks at once (no commit window): tests await them one by one, and
  // sample_writer_test covers the window.
  const resolved = resolveServerConfig({
    DATABASE_URL: db.url,
    INGEST_COMMIT_WINDOW_MS: "0",
    ...env,
  });
  if (!resolved.ok) throw new Error(resolved.error);
  const log = memoryLogger();
  const deps = createAppDeps({
    config: resolved.config,
    database: db.database,
    clock: systemClock,
    log,
    upgradeWebSocket,
    shutdown,
  });
  return {
    app: createApp(deps),
    deps,
    db,
    log,
    async [Symbol.asyncDispose]() {
      await deps.writer.close();
      await deps.alerts.stop();
      await db[Symbol.asyncDispose]();
    },
  };
}
