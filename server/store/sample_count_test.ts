import assert from "node:assert/strict";
import { createHost } from "./hosts.ts";
import { compactHead } from "./compaction.ts";
import { storedSampleCounts } from "./sample_count.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { fillFast } from "../testing/series_samples.ts";

const T0 = Date.UTC(2026, 3, 20);
const HOUR = 3_600_000;

Deno.test("storedSampleCounts() counts samples in the head and in raw blocks alike, up to a time", async () => {
  await using tmp = await openTempDatabase();
  const { database } = tmp;
  for (const name of ["a", "b"]) {
    const { host } = await createHost(database, name, T0);
    await fillFast(database, {
      hostId: host.id,
      fromMs: T0,
      count: 3 * 360, // 3 h at 10 s
      stepMs: 10_000,
    });
  }
  const all = { fast: 2 * 1080, medium: 0, slow: 0 };
  assert.deepEqual(await storedSampleCounts(database), all);
  // the first 2-hour window of both hosts into blocks: the same count
  const moved = await compactHead(database, T0 + 3 * HOUR);
  assert.equal(moved.samples, 2 * 720);
  assert.deepEqual(await storedSampleCounts(database), all);
  // up to 1 h: inside a block
  assert.deepEqual(await storedSampleCounts(database, T0 + HOUR - 1), {
    fast: 2 * 360,
    medium: 0,
    slow: 0,
  });
});
