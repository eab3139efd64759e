/**
 * Opens the database named by a URL: `file:` for an embedded SQLite file (the
 * default), `libsql://`, `http(s)://` or `ws(s)://` for a remote libSQL server.
 * Nothing here runs at import time; `main.ts` and tests call `openDatabase`.
 */
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import * as schema from "./schema.ts";
import { openFileClient } from "./file_client.ts";
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
 * A database that cannot be opened, said in one line that names the path
 * and what to do; `main.ts` and the CLI print it instead of a stack trace.
 */
export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

export interface OpenOptions {
  authToken?: string;
  /**
   * Create a missing `file:` database (and its folder); default true. The
   * host CLI passes false, so a wrong DATABASE_URL is reported instead of
   * quietly starting an empty database.
   */
  create?: boolean;
}

/** The file path of a `file:` URL, as the driver reads it. */
export function filePath(url: string): string {
  return url.slice("file:".length).replace(/\?.*$/, "");
}

/** Why a `file:` database at `path` failed to open, as one line. */
export function describeOpenError(path: string, err: unknown): string | null {
  const code = err && typeof err === "object" && "code" in err
    ? String(err.code)
    : "";
  const message = err instanceof Error ? err.message : String(err);
  if (code === "SQLITE_NOTADB") {
    return `${path} is not an SQLite database: set DATABASE_URL to proxmon's database, or move that file away to start a new one`;
  }
  if (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM")) {
    return `${path} cannot be written (${code}): give the server's user write access to it and its folder, or set DATABASE_URL`;
  }
  // The driver reports SQLITE_CANTOPEN (14) only inside its message.
  if (
    code.startsWith("SQLITE_CANTOPEN") ||
    /Unable to open connection to local database .*: 14\b/.test(message)
  ) {
    return `cannot open or create ${path}: check that its folder exists and is writable by the server's user, or set DATABASE_URL`;
  }
  return null;
}

/**
 * Opens the database, creating the parent folder of a `file:` URL, turning on
 * WAL for files, and applying every pending migration. Problems with a local
 * file throw {@link DatabaseError}.
 */
export async function openDatabase(
  url: string,
  opts: OpenOptions = {},
): Promise<Database> {
  const file = url.startsWith("file:") ? filePath(url) : null;
  const fresh = file !== null && await prepareFile(file, opts.create ?? true);
  try {
    return await connect(url, opts, fresh);
  } catch (err) {
    const line = file === null ? null : describeOpenError(file, err);
    if (line !== null) throw new DatabaseError(line);
    throw err;
  }
}

/**
 * Checks a `file:` database's path, and creates its folder if asked.
 * True when there is no file yet (a new database).
 */
async function prepareFile(path: string, create: boolean): Promise<boolean> {
  const info = await Deno.stat(path).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new DatabaseError(`cannot read ${path}: ${err.message}`);
  });
  if (info?.isDirectory) {
    throw new DatabaseError(
      `${path} is a folder, not a database file: set DATABASE_URL to a file, e.g. file:${
        path.replace(/\/+$/, "")
      }/proxmon.db`,
    );
  }
  if (info !== null) return info.size === 0;
  if (!create) {
    throw new DatabaseError(`no database at ${path} (set DATABASE_URL)`);
  }
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (!dir) return true;
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (err) {
    throw new DatabaseError(
      `cannot create the folder ${dir} for ${path}: ${
        (err as Error).message.replace(/ \(os error \d+\).*$/, "")
      }; set DATABASE_URL to a writable place`,
    );
  }
  return true;
}

/**
 * The page size of a new database file. Each commit writes every page it
 * touched to the WAL, and checkpoints write them again: at one sample per
 * commit (a small fleet), 4 KiB pages made a 1.5 KB head row cost ~10 KB of
 * disk writes. Smaller pages cut that by half; an existing file keeps its
 * size (changing it needs a VACUUM).
 */
export const NEW_FILE_PAGE_SIZE = 1024;

async function connect(
  url: string,
  opts: OpenOptions,
  fresh: boolean,
): Promise<Database> {
  // A local file gets one connection of our own (file_client.ts): the
  // driver is synchronous, so a second one never ran anything in parallel,
  // and a pooled one would miss `synchronous = NORMAL` and fsync each
  // commit. Its busy timeout is 5 s, for while the host CLI holds the lock.
  const client = url.startsWith("file:")
    ? openFileClient(filePath(url))
    : createClient({ url, authToken: opts.authToken });
  if (fresh) {
    // Both only take effect before the first table exists. Incremental
    // auto-vacuum lets a clean stop give compacted head pages back to the
    // file system (see releaseFreePages).
    await client.execute(`PRAGMA page_size = ${NEW_FILE_PAGE_SIZE}`);
    await client.execute("PRAGMA auto_vacuum = INCREMENTAL");
  }
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

/**
 * Gives the file's free pages (compacted head rows, pruned blocks) back to
 * the file system, on a database made with incremental auto-vacuum; a no-op
 * on others. Run at a clean stop, before the checkpoint: between stops the
 * pages are reused by new rows, so freeing them earlier would only cost
 * writes.
 */
export async function releaseFreePages(database: Database): Promise<void> {
  if (!database.url.startsWith("file:")) return;
  // executeMultiple, because execute() steps a statement once: this pragma
  // frees one page per step, and left unfinished it locks the database.
  await database.client.executeMultiple("PRAGMA incremental_vacuum");
}
