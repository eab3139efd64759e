import assert from "node:assert/strict";
import { createHost } from "./hosts.ts";
import { writeSeriesHistory } from "./backfill.ts";
import { listSeries } from "./series_query.ts";
import { readTier } from "./series_read.ts";
import { emptyRollup, type Rollup } from "./rollup.ts";
import { openTempDatabase } from "../testing/temp_db.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 3, 20);
const cpu = { kind: "host" as const, object: "", metric: "cpu" };
const load = { kind: "host" as const, object: "", metric: "load1" };

/** Points every `stepMs` over [from, to), all of value `value`. */
function flat(from: number, to: number, stepMs: number, value: number): Rollup {
  const r = emptyRollup();
  for (let t = from; t < to; t += stepMs) {
    r.t.push(t);
    r.min.push(value);
    r.avg.push(value);
    r.max.push(value);
    r.last.push(value);
    r.n.push(1);
  }
  return r;
}

Deno.test("readTier() fills only the windows a series has no block for from the tier below", async () => {
  await using tmp = await openTempDatabase();
  const { database } = tmp;
  const { host } = await createHost(database, "pve-01", T0);
  // Two days of raw points for both series, value 5 ...
  for (const key of [cpu, load]) {
    await writeSeriesHistory(
      database,
      host.id,
      key,
      0,
      flat(T0, T0 + 2 * DAY, 60_000, 5),
    );
  }
  // ... and a 1-minute block for day 1 of cpu only, every other minute,
  // value 70: a read must take it as it is and add nothing from raw.
  await writeSeriesHistory(
    database,
    host.id,
    cpu,
    1,
    flat(T0, T0 + DAY, 120_000, 70),
  );
  const ids = new Map(
    (await listSeries(database, host.id)).map((s) => [s.metric, s.id]),
  );
  const got = await readTier(
    database,
    {
      hostId: host.id,
      interval: "fast",
      ids: [ids.get("cpu")!, ids.get("load1")!],
    },
    1,
    T0,
    T0 + 2 * DAY,
  );
  const c = got.get(ids.get("cpu")!)!;
  const l = got.get(ids.get("load1")!)!;
  const day1 = (r: Rollup) => r.t.filter((t) => t < T0 + DAY).length;
  assert.equal(day1(c), 720, "cpu day 1: the block's 720 entries, no raw ones");
  assert.ok(
    c.avg.slice(0, 720).every((x) => x === 7000),
    "cpu day 1 from its block",
  );
  assert.equal(c.t.length - 720, 1440, "cpu day 2 rolled up from raw");
  assert.ok(c.avg.slice(720).every((x) => x === 500));
  assert.equal(day1(l), 1440, "load1 day 1 rolled up from raw");
  assert.equal(l.t.length, 2880);
  assert.deepEqual(c.t, [...c.t].sort((a, b) => a - b), "in time order");
});
