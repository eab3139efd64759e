/**
 * The built-in rules through the engine, on made-up histories whose answers
 * are known: when exactly pool_full_forecast and scrub_overdue fire.
 */
import * as assert from "node:assert/strict";
import {
  fastWith,
  feed,
  onlyRules,
  startHarness,
  T0,
} from "../testing/engine_harness.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

Deno.test("pool_full_forecast fires when the 7-day line says full within 14 days, not before", async () => {
  await using h = await startHarness(onlyRules("pool_full_forecast"));
  // 2 %/day from 60 %: on day d the line is full in 20 - d days, so it
  // reaches the 14-day warning on day 6 and the 3-day crit on day 17.
  let firstWarn: number | null = null;
  let firstCrit: number | null = null;
  for (let hour = 0; hour <= 18 * 24; hour++) {
    const at = T0 + hour * HOUR;
    const cap = 60 + (2 * hour) / 24;
    h.engine.observe("pve", at, {
      interval: "fast",
      data: await fastWith([{ name: "tank", capacity_percent: cap }]),
    });
    const alert = h.engine.active().find((a) =>
      a.rule === "pool_full_forecast"
    );
    if (alert?.severity === "warn" && firstWarn === null) firstWarn = hour;
    if (alert?.severity === "crit" && firstCrit === null) firstCrit = hour;
  }
  await h.engine.flush();
  assert.equal(firstWarn, 6 * 24);
  assert.equal(firstCrit, 17 * 24);
  const alert = h.engine.active()[0];
  assert.equal(alert.object, "tank");
  assert.equal(alert.state, "firing");
  assert.equal(alert.value, "full in 2 days"); // day 18: 20 - 18
});

Deno.test("pool_full_forecast stays quiet for a full but steady pool and for a draining one", async () => {
  await using h = await startHarness(onlyRules("pool_full_forecast"));
  for (let hour = 0; hour <= 8 * 24; hour += 2) {
    const at = T0 + hour * HOUR;
    // 'steady' wobbles ±1 % around 95 %; 'draining' loses 1 %/day
    await feed(
      h,
      "pve",
      at,
      await fastWith([
        { name: "steady", capacity_percent: 95 + (hour % 4 ? 1 : -1) },
        { name: "draining", capacity_percent: 90 - hour / 24 },
      ]),
    );
  }
  assert.deepEqual(h.engine.active(), []);
});

Deno.test("pool_full_forecast needs a day of history before it judges", async () => {
  await using h = await startHarness(onlyRules("pool_full_forecast"));
  // 10 %/hour would be full in hours, but only 20 hours are known
  for (let hour = 0; hour <= 20; hour++) {
    await feed(
      h,
      "pve",
      T0 + hour * HOUR,
      await fastWith([{ name: "tank", capacity_percent: 10 + hour }]),
    );
  }
  assert.deepEqual(h.engine.active(), []);
  await feed(
    h,
    "pve",
    T0 + 24 * HOUR,
    await fastWith([{ name: "tank", capacity_percent: 34 }]),
  );
  assert.equal(h.engine.active()[0]?.severity, "crit");
});

Deno.test("scrub_overdue fires on the first sample 35 days after the last scrub, and for a pool never scrubbed", async () => {
  await using h = await startHarness(onlyRules("scrub_overdue"));
  const scrubbedAt = T0 / 1000 - 30 * 86_400; // 30 days before T0
  const pools = (at: number) => [
    { name: "tank", last_scrub_end: scrubbedAt, scan: null },
    { name: "fresh", last_scrub_end: at / 1000 - 86_400, scan: null },
  ];
  let fired: number | null = null;
  for (let hour = 0; hour <= 6 * 24; hour++) {
    const at = T0 + hour * HOUR;
    h.engine.observe("pve", at, {
      interval: "fast",
      data: await fastWith(pools(at)),
    });
    if (fired === null && h.engine.active().length > 0) fired = hour;
  }
  assert.equal(fired, 5 * 24); // 30 + 5 = 35 days
  assert.deepEqual(h.engine.active().map((a) => a.object), ["tank"]);
  assert.match(h.engine.active()[0].summary, /last scrubbed 36 days ago/);

  // a scrub under way counts as done; a finished one resolves the alert
  const at = T0 + 7 * DAY;
  await feed(
    h,
    "pve",
    at,
    await fastWith([
      {
        name: "tank",
        last_scrub_end: scrubbedAt,
        scan: {
          function: "SCRUB",
          state: "SCANNING",
          start_unix: at / 1000,
          end_unix: null,
          progress_percent: 10,
        },
      },
      { name: "never", last_scrub_end: null, scan: null },
    ]),
  );
  assert.deepEqual(h.engine.active().map((a) => [a.object, a.value]), [[
    "never",
    "never scrubbed",
  ]]);
});

Deno.test("pool_capacity waits its 10 minutes and clears only below warn minus hysteresis", async () => {
  await using h = await startHarness(onlyRules("pool_capacity"));
  const cap = (c: number) => fastWith([{ name: "tank", capacity_percent: c }]);
  const MIN = 60_000;
  await feed(h, "pve", T0, await cap(82));
  assert.equal(h.engine.active()[0].state, "pending");
  await feed(h, "pve", T0 + 9 * MIN, await cap(83));
  assert.equal(h.engine.active()[0].state, "pending");
  await feed(h, "pve", T0 + 10 * MIN, await cap(83));
  assert.equal(h.engine.active()[0].state, "firing");
  await feed(h, "pve", T0 + 11 * MIN, await cap(76));
  assert.equal(h.engine.active()[0].state, "firing");
  await feed(h, "pve", T0 + 12 * MIN, await cap(74));
  assert.deepEqual(h.engine.active(), []);
});

Deno.test("overrides: a pool's own levels, and guest_down off for a tag", async () => {
  await using h = await startHarness(
    onlyRules("pool_capacity", "guest_down") + `
[[rule]]
id = "pool_capacity"
for = "0s"
[[rule]]
id = "pool_capacity"
host = "pve"
pool = "backup"
warn = 95
crit = 99
[[rule]]
id = "guest_down"
tag = "lab"
enabled = false
`,
  );
  const data = (status: string) =>
    fastWith([
      { name: "tank", capacity_percent: 91 },
      { name: "backup", capacity_percent: 91 },
    ], (p) => {
      p.vms_runtime.vms = [
        {
          ...p.vms_runtime.vms[0],
          vmid: 1,
          name: "prod",
          tags: ["prod"],
          template: false,
          status,
        },
        {
          ...p.vms_runtime.vms[0],
          vmid: 2,
          name: "play",
          tags: ["lab"],
          template: false,
          status,
        },
      ];
    });
  await feed(h, "pve", T0, await data("running"));
  await feed(h, "pve", T0 + 10_000, await data("stopped"));
  const got = h.engine.active().map((a) => [a.rule, a.object, a.severity]);
  assert.deepEqual(got.sort(), [
    ["guest_down", "1", "warn"],
    ["pool_capacity", "tank", "crit"],
  ]);
});

Deno.test("pool_full_forecast seeds its 7-day window from the stored history", async () => {
  await using h = await startHarness(onlyRules("pool_full_forecast"));
  const { createHost } = await import("../../store/hosts.ts");
  const { writeSeriesHistory } = await import("../../store/time_series.ts");
  const { host } = await createHost(h.db.database, "pve", T0);
  // hourly rollups: 2 %/day from 60 % over the last 7 days
  const t: number[] = [], v: number[] = [];
  for (let hour = 7 * 24; hour >= 1; hour--) {
    t.push(T0 - hour * HOUR);
    v.push(60 + (2 * (7 * 24 - hour)) / 24);
  }
  await writeSeriesHistory(
    h.db.database,
    host.id,
    { kind: "pool", object: "tank", metric: "capacity" },
    2,
    {
      t,
      avg: v,
      min: v,
      max: v,
      last: v,
      n: v.map(() => 60),
    },
  );
  // the first sample after a start knows nothing yet …
  await feed(
    h,
    "pve",
    T0,
    await fastWith([{ name: "tank", capacity_percent: 74 }]),
  );
  assert.deepEqual(h.engine.active(), []);
  // … and the next one judges the seeded week: full in 13 days
  await feed(
    h,
    "pve",
    T0 + 60_000,
    await fastWith([{ name: "tank", capacity_percent: 74 }]),
  );
  const alert = h.engine.active()[0];
  assert.equal(alert?.rule, "pool_full_forecast");
  assert.equal(alert.severity, "warn");
  assert.equal(alert.value, "full in 13 days");
});
