/**
 * A real SQLite file in a fresh temporary directory, migrated, for tests.
 * Use with `await using`, so the file and folder go when the test ends.
 */
import { type Database, openDatabase } from "../store/client.ts";

export interface TempDatabase extends AsyncDisposable {
  database: Database;
  dir: string;
  url: string;
}

/** Opens a migrated database in a new temporary directory. */
export async function openTempDatabase(): Promise<TempDatabase> {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-test-" });
  const url = `file:${dir}/proxmon.db`;
  const database = await openDatabase(url);
  return {
    database,
    dir,
    url,
    async [Symbol.asyncDispose]() {
      database.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
