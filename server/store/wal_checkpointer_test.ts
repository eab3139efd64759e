/**
 * Checkpoints off the ingest connection: with the Worker running, the WAL
 * stays small however much the connection writes, although the connection
 * itself never checkpoints; without it (stopped, or failed) the connection
 * checkpoints again.
 */
import assert from "node:assert/strict";
import { memoryLogger } from "@proxmon/shared/logger";
import { openTempDatabase } from "../testing/temp_db.ts";
import type { Database } from "./client.ts";
import {
  AUTO_CHECKPOINT_PAGES,
  startWalCheckpointer,
  walIndex,
} from "./wal_checkpointer.ts";

const autoCheckpoint = async (database: Database) =>
  Number(
    (await database.client.execute("PRAGMA wal_autocheckpoint")).rows[0][0],
  );

const walBytes = (dir: string) => {
  try {
    return Deno.statSync(`${dir}/proxmon.db-wal`).size;
  } catch {
    return 0;
  }
};

/** Commits `mb` megabytes, 64 KB a commit, pausing between commits. */
async function write(database: Database, mb: number) {
  await database.client.execute(
    "CREATE TABLE IF NOT EXISTS scratch (b BLOB)",
  );
  const blob = new Uint8Array(64 * 1024).fill(7);
  for (let i = 0; i < mb * 16; i++) {
    await database.client.execute({
      sql: "INSERT INTO scratch (b) VALUES (?)",
      args: [blob],
    });
    if (i % 16 === 0) await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("with the checkpoint Worker, the connection does not checkpoint and the WAL stays small", async () => {
  await using tmp = await openTempDatabase();
  const log = memoryLogger();
  const checkpointer = await startWalCheckpointer(tmp.database, log, {
    everyMs: 50,
  });
  try {
    assert.equal(await autoCheckpoint(tmp.database), 0);
    let largest = 0;
    const watch = setInterval(
      () => largest = Math.max(largest, walBytes(tmp.dir)),
      5,
    );
    await write(tmp.database, 24);
    clearInterval(watch);
    // 24 MB went through a WAL that never held more than a few of them.
    assert.ok(largest < 12 * 1024 * 1024, `WAL reached ${largest} bytes`);
    assert.ok((checkpointer.last()?.checkpointed ?? 0) > 0);
  } finally {
    await checkpointer.stop();
  }
  assert.equal(await autoCheckpoint(tmp.database), AUTO_CHECKPOINT_PAGES);
  assert.deepEqual(log.lines, []);
});

Deno.test("without a checkpointer the connection's WAL holds everything written since the last checkpoint", async () => {
  // The contrast that makes the test above mean something.
  await using tmp = await openTempDatabase();
  await tmp.database.client.execute("PRAGMA wal_autocheckpoint = 0");
  await write(tmp.database, 24);
  assert.ok(walBytes(tmp.dir) > 24 * 1024 * 1024);
});

Deno.test("a checkpoint Worker that fails as it loads changes nothing; one that fails later gives the checkpoints back", async () => {
  await using tmp = await openTempDatabase();
  const url = (at: string) =>
    new URL(
      `../testing/failing_worker.ts?serve=checkpoint&at=${at}`,
      import.meta.url,
    );
  const log = memoryLogger();
  const none = await startWalCheckpointer(tmp.database, log, {
    workerUrl: url("load"),
  });
  assert.equal(none.last(), null);
  assert.equal(await autoCheckpoint(tmp.database), AUTO_CHECKPOINT_PAGES);
  assert.match(log.lines.join("\n"), /did not start/);

  const later = await startWalCheckpointer(tmp.database, log, {
    workerUrl: url("later"),
  });
  assert.equal(await autoCheckpoint(tmp.database), 0);
  const end = Date.now() + 10_000;
  while (await autoCheckpoint(tmp.database) !== AUTO_CHECKPOINT_PAGES) {
    assert.ok(Date.now() < end, log.lines.join("\n"));
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(log.lines.join("\n"), /checkpoints again/);
  await later.stop();
});

Deno.test("the wal-index says how many frames the WAL holds and how many are copied", async () => {
  await using tmp = await openTempDatabase();
  await tmp.database.client.execute("PRAGMA wal_autocheckpoint = 0");
  await tmp.database.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  const read = walIndex(`${tmp.dir}/proxmon.db-shm`);
  assert.ok(read);
  await write(tmp.database, 2);
  const before = read()!;
  const rs = await tmp.database.client.execute("PRAGMA wal_checkpoint");
  assert.equal(before.mxFrame, Number(rs.rows[0][1]));
  assert.equal(before.nBackfill, 0);
  assert.ok(before.mxFrame > 2000, `${before.mxFrame} frames`);
  assert.deepEqual(read(), {
    mxFrame: before.mxFrame,
    nBackfill: before.mxFrame,
  });
  assert.equal(walIndex(`${tmp.dir}/no-such-db-shm`), null);
});
