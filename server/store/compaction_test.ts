import assert from "node:assert/strict";
import { createHost } from "./hosts.ts";
import { headSamples, recordSamples } from "./sample_store.ts";
import { buildRollups, compactHead } from "./compaction.ts";
import { querySeries } from "./series_query.ts";
import { listSeries } from "./series_query.ts";
import { openDatabase } from "./client.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import {
  cpuAt,
  fillFast,
  type FillOptions,
  readHostCpu,
} from "../testing/series_samples.ts";
import { sampleFixture } from "../testing/samples.ts";

const T0 = Date.UTC(2026, 3, 20); // a day boundary
const HOUR = 3_600_000;
const cpu = { kind: "host" as const, object: "", metric: "cpu" };

/**
 * A temporary database with host pve-01 and fast samples from T0 (see
 * fillFast); `times` are the samples' times.
 */
async function hostWithSamples(fill: Omit<FillOptions, "hostId" | "fromMs">) {
  const tmp = await openTempDatabase();
  try {
    const { host } = await createHost(tmp.database, "pve-01", T0);
    const times = await fillFast(tmp.database, {
      hostId: host.id,
      fromMs: T0,
      ...fill,
    });
    return Object.assign(tmp, { host, times });
  } catch (err) {
    await tmp[Symbol.asyncDispose]();
    throw err;
  }
}

Deno.test("compactHead() moves closed windows into blocks and the points read back the same", async () => {
  await using tmp = await hostWithSamples({
    count: 5 * 360,
    stepMs: 10_000,
  });
  const { database, host, times } = tmp;
  const expected = times.map((t, i) => [t, cpuAt(i)]);
  assert.deepEqual(await readHostCpu(database, host.id), expected);
  const now = T0 + 5 * HOUR + 10 * 60_000;
  const r = await compactHead(database, now, { graceMs: 5 * 60_000 });
  // windows 00-02 and 02-04 are closed; 04-06 is still open
  assert.equal(r.windows, 2);
  assert.equal(r.samples, 4 * 360);
  assert.equal((await headSamples(database)).length, 360);
  assert.deepEqual(await readHostCpu(database, host.id), expected);
  // compacting again moves nothing
  assert.equal((await compactHead(database, now)).samples, 0);
  const size = await database.client.execute(
    "SELECT SUM(length(data)) AS b, COUNT(*) AS n FROM series_blocks",
  );
  const points = 4 * 360 * (await listSeries(database, host.id)).length;
  assert.ok(
    Number(size.rows[0].b) / points < 2,
    `${Number(size.rows[0].b) / points} bytes per point`,
  );
});

Deno.test("compactHead() merges a late sample into its window's block", async () => {
  await using tmp = await hostWithSamples({
    count: 100,
    stepMs: 20_000,
  });
  const { database, host, times } = tmp;
  await compactHead(database, T0 + 3 * HOUR);
  const late = await sampleFixture("fast");
  late.host.cpu_percent = 55.5;
  const at = T0 + 5_000; // between the first two samples
  assert.deepEqual(
    await recordSamples(database, [{
      hostId: host.id,
      interval: "fast",
      collectedAtMs: at,
      data: late,
    }], T0),
    ["stored"],
  );
  // and a replay of a compacted sample adds nothing
  const replay = await sampleFixture("fast");
  replay.host.cpu_percent = 77;
  await recordSamples(database, [{
    hostId: host.id,
    interval: "fast",
    collectedAtMs: times[3],
    data: replay,
  }], T0);
  await compactHead(database, T0 + 3 * HOUR);
  const got = await readHostCpu(database, host.id);
  assert.equal(got.length, 101);
  assert.deepEqual(got[1], [at, 55.5]);
  assert.deepEqual(got[4], [times[3], cpuAt(3)]);
  assert.equal((await headSamples(database)).length, 0);
});

Deno.test("compactHead({ openWindows }) also moves the open window, and its later samples merge in", async () => {
  await using tmp = await hostWithSamples({ count: 90, stepMs: 10_000 });
  const { database, host, times } = tmp;
  const now = times[times.length - 1] + 5_000; // inside the first window
  assert.equal((await compactHead(database, now)).samples, 0, "still open");
  const r = await compactHead(database, now, { openWindows: true });
  assert.equal(r.samples, 90);
  assert.equal((await headSamples(database)).length, 0);
  // the window goes on after the restart
  const next = await sampleFixture("fast");
  next.host.cpu_percent = 42.5;
  const at = now + 5_000;
  await recordSamples(database, [{
    hostId: host.id,
    interval: "fast",
    collectedAtMs: at,
    data: next,
  }], at);
  await compactHead(database, T0 + 3 * HOUR);
  const got = await readHostCpu(database, host.id);
  assert.deepEqual(got, [
    ...times.map((t, i) => [t, cpuAt(i)]),
    [at, 42.5],
  ]);
  // shouldStop ends it between windows
  await fillFast(database, {
    hostId: host.id,
    fromMs: T0 + 4 * HOUR,
    count: 10,
    stepMs: 10_000,
  });
  const none = await compactHead(database, T0 + 5 * HOUR, {
    openWindows: true,
    shouldStop: () => true,
  });
  assert.equal(none.samples, 0);
  assert.equal((await headSamples(database)).length, 10);
});

Deno.test("buildRollups() makes 1-minute and hourly blocks that answer like the raw points", async () => {
  // 8 days, a sample every 150 s (sparser than the agent, to keep the test
  // short): hourly entries then average 24 one-minute entries
  await using tmp = await hostWithSamples({
    count: 8 * 24 * 24,
    stepMs: 150_000,
    batch: 500,
  });
  const { database, host } = tmp;
  const now = T0 + 8 * 24 * HOUR + HOUR;
  const q = (tier?: "raw" | "1m" | "1h") =>
    querySeries(database, {
      hostId: host.id,
      keys: [cpu],
      fromMs: T0,
      toMs: T0 + 7 * 24 * HOUR,
      points: 168,
      nowMs: now,
      tier,
    });
  const onTheFly = await q();
  assert.equal(onTheFly.tier, "1h");
  await compactHead(database, now);
  const r = await buildRollups(database, now);
  assert.ok(r.oneMinute > 0 && r.oneHour > 0, JSON.stringify(r));
  const blocks = await database.client.execute(
    "SELECT tier, COUNT(*) AS n FROM series_blocks GROUP BY tier ORDER BY tier",
  );
  assert.deepEqual(blocks.rows.map((b) => Number(b.tier)), [0, 1, 2]);
  const built = await q();
  const raw = await q("raw");
  // Rollup entries sit at their minute or hour, raw points where they
  // fell: the same buckets, not the same instants.
  const bucketOf = (t: number) => Math.floor((t - T0) / built.bucketMs);
  assert.deepEqual(
    built.series[0].t.map(bucketOf),
    raw.series[0].t.map(bucketOf),
  );
  for (const f of ["min", "max", "last"] as const) {
    assert.deepEqual(built.series[0][f], raw.series[0][f], f);
  }
  built.series[0].avg.forEach((x, i) =>
    assert.ok(Math.abs(x - raw.series[0].avg[i]) < 0.01, `avg ${i}`)
  );
  // Built blocks keep averages at the series' precision; on the fly they
  // are exact.
  assert.deepEqual(built.series[0].t, onTheFly.series[0].t);
  assert.deepEqual(built.series[0].max, onTheFly.series[0].max);
  built.series[0].avg.forEach((x, i) =>
    assert.ok(Math.abs(x - onTheFly.series[0].avg[i]) < 0.01, `avg ${i}`)
  );
  // a second pass has nothing left to build
  assert.deepEqual(await buildRollups(database, now), {
    oneMinute: 0,
    oneHour: 0,
  });
});

/**
 * Kills a child process that compacts the same database file with SIGKILL
 * at varying moments, then checks that every acked point is there exactly
 * once, in the head or in a block, and that compaction finishes afterwards.
 */
Deno.test("a compaction killed at any moment loses and doubles nothing", async () => {
  await using tmp = await hostWithSamples({
    count: 12 * 360,
    stepMs: 10_000,
    batch: 500,
  });
  const { database, host, times } = tmp;
  const expected = times.map((t, i) => [t, cpuAt(i)]);
  const now = T0 + 14 * HOUR;
  const child =
    new URL("../testing/compact_child.ts", import.meta.url).pathname;
  let killedMidway = 0;
  for (let round = 0; round < 8; round++) {
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", child, tmp.url, String(now)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = proc.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /started/);
    await new Promise((r) => setTimeout(r, 20 + round * 40));
    let finished = false;
    try {
      proc.kill("SIGKILL");
    } catch {
      finished = true;
    }
    const status = await proc.status;
    reader.releaseLock();
    await proc.stdout.cancel();
    if (!finished && status.signal === "SIGKILL") killedMidway++;
    const reopened = await openDatabase(tmp.url);
    try {
      assert.deepEqual(
        await readHostCpu(reopened, host.id),
        expected,
        `round ${round}`,
      );
    } finally {
      reopened.close();
    }
  }
  assert.ok(
    killedMidway >= 3,
    `only ${killedMidway} kills landed mid-compaction`,
  );
  await compactHead(database, now);
  await buildRollups(database, now);
  assert.deepEqual(await readHostCpu(database, host.id), expected);
  assert.equal(
    (await headSamples(database)).filter((s) =>
      s.collectedAtMs < T0 + 12 * HOUR
    ).length,
    0,
  );
});
