import assert from "node:assert/strict";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { createHost } from "./hosts.ts";
import { memoryLogger } from "@proxmon/shared/logger";
import { allSamples, recordSamples, type SampleInput } from "./sample_store.ts";
import { pruneNow, startRetention } from "./retention.ts";
import { sampleFixture } from "../testing/samples.ts";
import { openTempDatabase } from "../testing/temp_db.ts";

const NOW = Date.UTC(2026, 3, 21, 12);
const HOUR = 3_600_000;
const slow = await sampleFixture("slow");

async function setup() {
  const t = await openTempDatabase();
  const { host } = await createHost(t.database, "pve-01", NOW);
  const at = (offsetMs: number): SampleInput => ({
    hostId: host.id,
    interval: "slow",
    collectedAtMs: NOW + offsetMs,
    data: slow,
  });
  return { t, at };
}

Deno.test("pruneNow() deletes samples older than the retention window", async () => {
  const { t, at } = await setup();
  await using _ = t;
  await recordSamples(t.database, [at(-49 * HOUR), at(-60_000)], NOW);
  const clock = fakeClock(NOW);
  const { deleted, cutoffMs } = await pruneNow({
    database: t.database,
    clock,
    retentionHours: 48,
  });
  assert.equal(deleted, 1);
  assert.equal(cutoffMs, NOW - 48 * HOUR);
  const remaining = await allSamples(t.database);
  assert.deepEqual(remaining.map((r) => r.collectedAtMs), [NOW - 60_000]);
});

Deno.test("pruneNow() keeps a sample exactly at the cutoff and deletes in batches", async () => {
  const { t, at } = await setup();
  await using _ = t;
  const old = Array.from({ length: 23 }, (_, i) => at(-3 * HOUR - i * 1000));
  await recordSamples(t.database, [...old, at(-2 * HOUR)], NOW);
  const { deleted } = await pruneNow({
    database: t.database,
    clock: fakeClock(NOW),
    retentionHours: 2,
    batchSize: 5,
  });
  assert.equal(deleted, 23);
  assert.deepEqual(
    (await allSamples(t.database)).map((r) => r.collectedAtMs),
    [NOW - 2 * HOUR],
  );
});

Deno.test("startRetention() prunes at start and then every hour", async () => {
  const { t, at } = await setup();
  await using _ = t;
  const clock = fakeClock(NOW);
  const log = memoryLogger();
  await recordSamples(t.database, [at(-49 * HOUR), at(-47.5 * HOUR)], NOW);
  const retention = startRetention({
    database: t.database,
    clock,
    log,
    retentionHours: 48,
  });
  await clock.advance(0);
  await retention.idle();
  assert.equal((await allSamples(t.database)).length, 1);
  assert.match(
    log.lines[0],
    /retention: deleted 1 samples collected before 2026-04-19T12:00:00.000Z/,
  );

  // 59 minutes on, nothing runs; at the hour, the next sample has aged out.
  await clock.advance(HOUR - 60_000);
  await retention.idle();
  assert.equal((await allSamples(t.database)).length, 1);
  await clock.advance(60_000);
  await retention.idle();
  assert.equal((await allSamples(t.database)).length, 0);

  await retention.stop();
  assert.equal(clock.pending(), 0);
});

Deno.test("a failed prune is logged and the schedule goes on", async () => {
  const { t } = await setup();
  await using _ = t;
  const clock = fakeClock(NOW);
  const log = memoryLogger();
  const retention = startRetention({
    database: t.database,
    clock,
    log,
    retentionHours: 48,
  });
  t.database.close();
  await clock.advance(0);
  await retention.idle();
  assert.match(log.lines[0], /^error: retention: prune failed/);
  assert.equal(clock.pending(), 1);
  await retention.stop();
});
