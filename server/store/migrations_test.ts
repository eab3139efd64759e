import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { filePath, NEW_FILE_PAGE_SIZE, openDatabase } from "./client.ts";

const MIGRATIONS = new URL("./migrations", import.meta.url).pathname;

/** A database as the server before migration `tag` left it. */
async function databaseBefore(dir: string, tag: string): Promise<string> {
  const folder = `${dir}/migrations`;
  await cp(MIGRATIONS, folder, { recursive: true });
  const journalPath = `${folder}/meta/_journal.json`;
  const journal = JSON.parse(await Deno.readTextFile(journalPath));
  const at = journal.entries.findIndex((e: { tag: string }) => e.tag === tag);
  assert.ok(at > 0, `no migration ${tag}`);
  journal.entries = journal.entries.slice(0, at);
  await Deno.writeTextFile(journalPath, JSON.stringify(journal));
  const url = `file:${dir}/proxmon.db`;
  const client = createClient({ url });
  await client.execute("PRAGMA journal_mode = WAL");
  await migrate(drizzle(client), { migrationsFolder: folder });
  client.close();
  return url;
}

Deno.test("migration 0006 turns series_head and series_blocks into rowid tables and keeps every row", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-test-" });
  try {
    const url = await databaseBefore(dir, "0006_rowid_series_tables");
    const old = createClient({ url });
    const ddl = async (c: typeof old, table: string) =>
      String(
        (await c.execute({
          sql: "SELECT sql FROM sqlite_schema WHERE name = ?",
          args: [table],
        })).rows[0].sql,
      );
    assert.match(await ddl(old, "series_head"), /WITHOUT ROWID/);
    await old.batch([
      "INSERT INTO hosts (name, token_hash, created_at) VALUES ('pve-01', 'x', 1)",
      "INSERT INTO series (host_id, kind, object, metric) VALUES (1, 'host', '', 'cpu')",
      "INSERT INTO series_head VALUES (1, 'fast', 1000, x'0102'), (1, 'fast', 2000, x'0304')",
      "INSERT INTO series_blocks VALUES (1, 0, 0, 2000, 2, x'aabb'), (1, 1, 0, 60000, 1, x'cc')",
    ], "write");
    old.close();
    const database = await openDatabase(url);
    try {
      const { client } = database;
      assert.doesNotMatch(await ddl(client, "series_head"), /WITHOUT ROWID/);
      assert.doesNotMatch(await ddl(client, "series_blocks"), /WITHOUT ROWID/);
      const head = await client.execute(
        "SELECT collected_at, hex(points) AS p FROM series_head ORDER BY collected_at",
      );
      assert.deepEqual(head.rows.map((r) => [Number(r.collected_at), r.p]), [
        [1000, "0102"],
        [2000, "0304"],
      ]);
      const blocks = await client.execute(
        "SELECT tier, count, hex(data) AS d FROM series_blocks ORDER BY tier",
      );
      assert.deepEqual(
        blocks.rows.map((r) => [Number(r.tier), Number(r.count), r.d]),
        [
          [0, 2, "AABB"],
          [1, 1, "CC"],
        ],
      );
      // the keys still make replays idempotent
      const again = await client.execute(
        "INSERT INTO series_head VALUES (1, 'fast', 1000, x'ff') ON CONFLICT DO NOTHING",
      );
      assert.equal(again.rowsAffected, 0);
      // an existing file keeps its page size
      const page = await client.execute("PRAGMA page_size");
      assert.equal(Number(page.rows[0].page_size), 4096);
    } finally {
      database.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a new database file gets small pages and incremental auto-vacuum", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-test-" });
  try {
    const database = await openDatabase(`file:${dir}/new.db`);
    try {
      const page = await database.client.execute("PRAGMA page_size");
      assert.equal(Number(page.rows[0].page_size), NEW_FILE_PAGE_SIZE);
      const vacuum = await database.client.execute("PRAGMA auto_vacuum");
      assert.equal(Number(vacuum.rows[0].auto_vacuum), 2); // incremental
      assert.equal(filePath(database.url), `${dir}/new.db`);
    } finally {
      database.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
