/**
 * Opens the database named by a URL: `file:` for an embedded SQLite file (the
 * default), `libsql://`, `http(s)://` or `ws(s)://` for a remote libSQL server.
 * Nothing here runs at import time; `main.ts` and tests call `openDatabase`.
 */
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import * as schema from "./schema.ts";
import { createStoreCache, type StoreCache } from "./store_cache.ts";

export type Db = LibSQLDatabase<typeof schema>;

export interface Database {
  db: Db;
  client: Client;
  url: string;
  /** ingest's per-host memory of series ids and latest samples */
  cache: StoreCache;
  close(): void;
}

const MIGRATIONS = new URL("./migrations", import.meta.url).pathname;

/** True for URLs that point at a local SQLite file. */
export function isFileUrl(url: string): boolean {
  return url.startsWith("file:") || url === ":memory:";
}

/**
 * Opens the database, creating the parent folder of a `file:` URL, turning on
 * WAL for files, and applying every pending migration.
 */
export async function openDatabase(
  url: string,
  opts: { authToken?: string } = {},
): Promise<Database> {
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length);
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (dir) await Deno.mkdir(dir, { recursive: true });
  }
  // `timeout` is the busy timeout of every pooled connection. A PRAGMA would
  // reach only the first one, and the client opens more for transactions;
  // those would then fail at once while the host CLI holds the write lock.
  // For the same reason a local file gets one connection: the pool (20 by
  // default) opens another whenever two calls overlap in one tick, and that
  // one misses `synchronous = NORMAL`, so its commits fsync (ack latency
  // spikes in bench:retention). The driver is synchronous, so a second
  // connection never ran anything in parallel anyway.
  const client = createClient({
    url,
    authToken: opts.authToken,
    ...(url.startsWith("file:") ? { timeout: 5000, concurrency: 1 } : {}),
  });
  if (url.startsWith("file:")) {
    // WAL lets the dashboard read while ingest writes; NORMAL sync is durable
    // across a process crash, which is the failure we guard against.
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = NORMAL");
  }
  await client.execute("PRAGMA foreign_keys = ON");
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  return {
    db,
    client,
    url,
    cache: createStoreCache(),
    close: () => client.close(),
  };
}

/**
 * Moves everything in the write-ahead log into the main file and empties
 * the log, so `proxmon.db` alone holds every committed sample: copying just
 * that file after a clean stop is then a complete backup. No-op for remote
 * databases.
 */
export async function checkpointWal(database: Database): Promise<void> {
  if (!database.url.startsWith("file:")) return;
  await database.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
}
