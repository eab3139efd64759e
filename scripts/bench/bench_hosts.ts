/**
 * Registers many hosts at once for the ingest benchmarks. Going through the
 * CLI would cost one process per host, so this writes the rows directly,
 * with tokens from the server's own generator and hash function, which is
 * exactly what `deno task host register` stores.
 */
import { openDatabase } from "../../server/store/client.ts";
import { hosts } from "../../server/store/schema.ts";
import { generateToken, hashToken } from "../../server/auth/token_hash.ts";
import type { BenchHost } from "./load_plan.ts";

const ROWS_PER_INSERT = 200;

/**
 * Adds `count` hosts named `${prefix}0001`… to the database file at `dbPath`
 * (migrating it first if new), created at `nowMs` (now unless given), and
 * returns their names and tokens.
 */
export async function registerBenchHosts(
  dbPath: string,
  prefix: string,
  count: number,
  nowMs = Date.now(),
): Promise<BenchHost[]> {
  const made: BenchHost[] = Array.from({ length: count }, (_, i) => ({
    name: `${prefix}${String(i + 1).padStart(4, "0")}`,
    token: generateToken(),
  }));
  const database = await openDatabase(`file:${dbPath}`);
  try {
    for (let i = 0; i < made.length; i += ROWS_PER_INSERT) {
      await database.db.insert(hosts).values(
        made.slice(i, i + ROWS_PER_INSERT).map((h) => ({
          name: h.name,
          tokenHash: hashToken(h.token),
          createdAt: nowMs,
        })),
      );
    }
    await database.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    database.close();
  }
  return made;
}
