import assert from "node:assert/strict";
import { createClient, LibsqlError } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { sql } from "drizzle-orm";
import { tempDir } from "@proxmon/shared/temp_dir";
import { openFileClient } from "./file_client.ts";

async function withClient(
  fn: (c: ReturnType<typeof openFileClient>, path: string) => Promise<void>,
) {
  await using dir = await tempDir();
  const path = `${dir.path}/t.db`;
  const c = openFileClient(path);
  try {
    await c.execute(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, b BLOB)",
    );
    await fn(c, path);
  } finally {
    c.close();
  }
}

Deno.test("file client rows read by name and by index, as the driver's do, and drizzle maps them", async () => {
  await withClient(async (c) => {
    await c.execute({
      sql: "INSERT INTO t VALUES (?, ?, ?), (?, ?, ?)",
      args: [1, "a", new Uint8Array([1, 2, 3]), 2, "b", null],
    });
    const rs = await c.execute(
      "SELECT id, name, b, id AS id FROM t ORDER BY id",
    );
    assert.deepEqual(rs.columns, ["id", "name", "b", "id"]);
    assert.deepEqual(rs.rows.length, 2);
    const [r] = rs.rows;
    assert.deepEqual([r.id, r.name, r[0], r[1], r.length], [1, "a", 1, "a", 4]);
    assert.deepEqual(Object.keys(r), ["id", "name", "b"]);
    assert.ok(r.b instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(r.b as ArrayBuffer)], [1, 2, 3]);
    assert.deepEqual(Array.prototype.slice.call(rs.rows[1]), [2, "b", null, 2]);
    const db = drizzle(c);
    assert.deepEqual(await db.all(sql`SELECT name FROM t ORDER BY id`), [
      { name: "a" },
      { name: "b" },
    ]);
  });
});

Deno.test("file client reports what it wrote, and errors as LibsqlError with the driver's codes", async () => {
  await withClient(async (c) => {
    const rs = await c.execute({
      sql: "INSERT INTO t (name) VALUES (?)",
      args: ["x"],
    });
    assert.deepEqual([rs.rowsAffected, rs.lastInsertRowid], [1, 1n]);
    const err = await c.execute({
      sql: "INSERT INTO t (id) VALUES (?)",
      args: [1],
    })
      .then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError);
    assert.deepEqual(err.code, "SQLITE_CONSTRAINT");
    assert.deepEqual(err.extendedCode, "SQLITE_CONSTRAINT_PRIMARYKEY");
    assert.ok(err.message.startsWith("SQLITE_CONSTRAINT: "), err.message);
    await assert.rejects(() => c.execute("SELEC nonsense"), LibsqlError);
  });
});

Deno.test("a failing batch leaves nothing of its earlier statements", async () => {
  await withClient(async (c) => {
    await assert.rejects(() =>
      c.batch([
        { sql: "INSERT INTO t (id, name) VALUES (?, ?)", args: [5, "kept?"] },
        { sql: "INSERT INTO t (id, name) VALUES (?, ?)", args: [5, "dup"] },
      ], "write")
    );
    assert.deepEqual(
      (await c.execute("SELECT COUNT(*) AS n FROM t")).rows[0].n,
      0,
    );
    const out = await c.batch([
      { sql: "INSERT INTO t (id, name) VALUES (?, ?)", args: [6, "a"] },
      "SELECT name FROM t",
    ], "write");
    assert.deepEqual(out[1].rows.map((r) => r.name), ["a"]);
  });
});

Deno.test("calls from outside an interactive transaction wait for its end and never run inside it", async () => {
  await withClient(async (c) => {
    const tx = await c.transaction("write");
    await tx.execute({ sql: "INSERT INTO t (id, name) VALUES (1, 'tx')" });
    let outsideDone = false;
    const outside = c.execute("INSERT INTO t (id, name) VALUES (2, 'out')")
      .then(() => outsideDone = true);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(outsideDone, false);
    await tx.rollback();
    await outside;
    const names = (await c.execute("SELECT name FROM t")).rows.map((r) =>
      r.name
    );
    // The rollback undid the transaction's row only.
    assert.deepEqual(names, ["out"]);
  });
});

Deno.test("more distinct statements than the cache holds all run right, and the file is an ordinary SQLite file", async () => {
  await withClient(async (c, path) => {
    for (let i = 0; i < 300; i++) {
      await c.execute({
        sql: `INSERT INTO t (id, name) VALUES (?, '${i}')`,
        args: [i],
      });
    }
    // The same texts again, after eviction.
    for (let i = 0; i < 300; i += 7) {
      const rs = await c.execute({
        sql: `SELECT name FROM t WHERE id = ? AND name = '${i}'`,
        args: [i],
      });
      assert.deepEqual(rs.rows[0].name, String(i));
    }
    const other = createClient({ url: `file:${path}` });
    try {
      const rs = await other.execute("SELECT COUNT(*) AS n FROM t");
      assert.deepEqual(rs.rows[0].n, 300);
    } finally {
      other.close();
    }
  });
});

Deno.test("a closed file client refuses calls", async () => {
  await using dir = await tempDir();
  const c = openFileClient(`${dir.path}/t.db`);
  c.close();
  await assert.rejects(() => c.execute("SELECT 1"), /closed/);
});
