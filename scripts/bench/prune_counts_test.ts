import assert from "node:assert/strict";
import { createHost } from "../../server/store/hosts.ts";
import { compactHead } from "../../server/store/compaction.ts";
import { pruneNow } from "../../server/store/retention.ts";
import { openTempDatabase } from "../../server/testing/temp_db.ts";
import { fillFast } from "../../server/testing/series_samples.ts";
import { countPrunable, countSamples } from "./prune_counts.ts";

// a multiple of the 2 h raw window, so the windows below are whole hours
const T0 = Date.UTC(2026, 3, 20);
const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;

for (
  const c of [
    // blocks 0-2 h and 2-4 h go; 4-6 h holds the cutoff and stays whole
    { cutoffH: 5.5, blocks: 2, head: 0, samples: 240 },
    // blocks up to 8 h go, and the head rows of 8-9 h (the open window)
    { cutoffH: 9, blocks: 4, head: 60, samples: 540 },
  ]
) {
  Deno.test(`countPrunable() counts what pruneNow deletes at a cutoff of ${c.cutoffH} h`, async () => {
    await using tmp = await openTempDatabase();
    const { database } = tmp;
    for (const name of ["a", "b"]) {
      const { host } = await createHost(database, name, T0);
      // 10 h at 60 s; compaction moves 0-8 h into blocks, 8-10 h stays
      await fillFast(database, {
        hostId: host.id,
        fromMs: T0,
        count: 600,
        stepMs: 60_000,
      });
    }
    await compactHead(database, T0 + 10 * HOUR);
    const cutoffMs = T0 + c.cutoffH * HOUR;
    const before = await countSamples(database);
    assert.equal(before, 2 * 600);
    const counts = await countPrunable(database, cutoffMs);
    const perBlocks = (await database.client.execute(
      "SELECT COUNT(DISTINCT series_id) AS n FROM series_blocks WHERE tier = 0",
    )).rows[0].n as number;
    assert.deepEqual(counts, {
      rawBlocks: c.blocks * perBlocks,
      headRows: 2 * c.head,
      samples: 2 * c.samples,
    });

    const nowMs = T0 + 11 * HOUR;
    const pruned = await pruneNow({
      database,
      nowMs,
      retention: {
        rawMs: nowMs - cutoffMs,
        oneMinuteMs: YEAR,
        oneHourMs: YEAR,
      },
      pauseMs: 0,
    });
    assert.equal(pruned.blocks.raw, counts.rawBlocks);
    assert.equal(pruned.headRows, counts.headRows);
    assert.equal(await countSamples(database), before - counts.samples);
    assert.deepEqual(await countPrunable(database, cutoffMs), {
      rawBlocks: 0,
      headRows: 0,
      samples: 0,
    });
  });
}
