import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import { parseCtime, parseDuration, scanFromText, utcTime } from "./scan.ts";
import { parseZpoolListJson, parseZpoolStatusJson } from "./zpool_json.ts";
import { parseZpoolListText, parseZpoolStatusText } from "./zpool_text.ts";

// The text fixtures were written in UTC; the JSON ones carry the same instants.
const statusText = (name: string) =>
  parseZpoolStatusText(readFixture(name), utcTime);

Deno.test("parseZpoolListText() reads zpool list -Hp into the same usage as the JSON form", () => {
  const text = parseZpoolListText(readFixture("zfs/zpool_list.txt"));
  const json = parseZpoolListJson(readFixture("zfs/zpool_list.json"));
  assert.deepEqual(text.errors, []);
  assert.deepEqual(text.pools, json.pools);
});

Deno.test("parseZpoolStatusText() produces the same summaries as the JSON form", async (t) => {
  for (const name of ["zpool_status", "zpool_status_scanning"]) {
    await t.step(name, () => {
      const text = statusText(`zfs/${name}.txt`);
      const json = parseZpoolStatusJson(readFixture(`zfs/${name}.json`));
      assert.deepEqual(text.errors, []);
      assert.deepEqual(text.pools, json.pools);
    });
  }
});

Deno.test("parseZpoolStatusText() counts a FAULTED leaf inside raidz2 as degraded and reads 'N data errors'", () => {
  const tank = statusText("zfs/zpool_status.txt").pools[1];
  assert.equal(tank.state, "DEGRADED");
  assert.equal(tank.degraded_vdev_count, 1);
  assert.equal(tank.vdev_count, 8);
  assert.equal(tank.error_count, 2);
});

Deno.test("parseZpoolStatusText() reads a finished scrub's end and derives its start from the duration", () => {
  const rpool = statusText("zfs/zpool_status.txt").pools[0];
  assert.deepEqual(rpool.scan, {
    function: "SCRUB",
    state: "FINISHED",
    start_unix: 1776564000 - (12 * 60 + 34),
    end_unix: 1776564000,
    progress_percent: 100,
  });
  assert.equal(rpool.last_scrub_end, 1776564000);
});

Deno.test("scanFromText() understands each scan line format of zpool status", async (t) => {
  const cases: [string, string[], unknown][] = [
    ["never scanned", ["none requested"], null],
    ["finished scrub", [
      "scrub repaired 0B in 00:00:05 with 0 errors on Sun Nov  9 00:24:06 2025",
    ], {
      function: "SCRUB",
      state: "FINISHED",
      start_unix: 1762647846 - 5,
      end_unix: 1762647846,
      progress_percent: 100,
    }],
    ["finished scrub over a day", [
      "scrub repaired 1.50M in 1 days 02:03:04 with 3 errors on Sun Nov  9 00:24:06 2025",
    ], {
      function: "SCRUB",
      state: "FINISHED",
      start_unix: 1762647846 - (26 * 3600 + 3 * 60 + 4),
      end_unix: 1762647846,
      progress_percent: 100,
    }],
    ["finished resilver", [
      "resilvered 12.3G in 00:10:00 with 0 errors on Sun Nov  9 00:24:06 2025",
    ], {
      function: "RESILVER",
      state: "FINISHED",
      start_unix: 1762647846 - 600,
      end_unix: 1762647846,
      progress_percent: 100,
    }],
    ["finished sequential rebuild", [
      "resilvered (mirror-0) 12.3G in 00:10:00 with 0 errors on Sun Nov  9 00:24:06 2025",
    ], {
      function: "RESILVER",
      state: "FINISHED",
      start_unix: 1762647846 - 600,
      end_unix: 1762647846,
      progress_percent: 100,
    }],
    ["canceled scrub", ["scrub canceled on Sun Nov  9 00:24:06 2025"], {
      function: "SCRUB",
      state: "CANCELED",
      start_unix: null,
      end_unix: 1762647846,
      progress_percent: null,
    }],
    ["running scrub", [
      "scrub in progress since Sun Nov  9 00:24:06 2025",
      "\t1.23T / 4.50T scanned at 1.12G/s, 245G / 4.50T issued at 227M/s",
      "\t0B repaired, 5.32% done, 05:27:05 to go",
    ], {
      function: "SCRUB",
      state: "SCANNING",
      start_unix: 1762647846,
      end_unix: null,
      progress_percent: 5.32,
    }],
    ["running resilver without an estimate", [
      "resilver in progress since Sun Nov  9 00:24:06 2025",
      "\t1.23G / 4.50T scanned, 0B / 4.50T issued",
      "\t0B resilvered, 0.00% done, no estimated completion time",
    ], {
      function: "RESILVER",
      state: "SCANNING",
      start_unix: 1762647846,
      end_unix: null,
      progress_percent: 0,
    }],
  ];
  for (const [label, lines, expected] of cases) {
    await t.step(
      label,
      () => assert.deepEqual(scanFromText(lines, utcTime), expected),
    );
  }
  await t.step("an unknown line is undefined, for the caller to report", () => {
    assert.equal(
      scanFromText(["defragmenting since yesterday"], utcTime),
      undefined,
    );
  });
});

Deno.test("parseCtime() and parseDuration() read zpool's time formats", () => {
  assert.equal(parseCtime("on Mon Nov 10 06:30:00 2025", utcTime), 1762756200);
  assert.equal(parseCtime("no date here", utcTime), null);
  assert.equal(parseDuration("00:12:34"), 754);
  assert.equal(parseDuration("2 days 00:00:01"), 172801);
  assert.equal(parseDuration("soon"), null);
});

Deno.test("parseZpoolStatusText() converts ctime with the local-time function it is given", () => {
  const plusOneHour = (
    y: number,
    mo: number,
    d: number,
    h: number,
    mi: number,
    s: number,
  ) => utcTime(y, mo, d, h, mi, s) - 3600; // a node at UTC+1
  const rpool =
    parseZpoolStatusText(readFixture("zfs/zpool_status.txt"), plusOneHour)
      .pools[0];
  assert.equal(rpool.last_scrub_end, 1776564000 - 3600);
});

Deno.test("the zpool text parsers report surprises instead of throwing", async (t) => {
  await t.step("a list line with missing columns", () => {
    const { pools, errors } = parseZpoolListText(
      "rpool\t500\t200\nok\t1\t1\t0\t-\t0\tONLINE\n",
    );
    assert.deepEqual(pools.map((p) => [p.name, p.fragmentation_percent]), [[
      "ok",
      null,
    ]]);
    assert.match(errors[0].message, /expected 7 tab-separated columns/);
  });
  await t.step("a list line with words for numbers", () => {
    const { pools, errors } = parseZpoolListText(
      "rpool\tbig\t200\t300\t1\t40\tONLINE\n",
    );
    assert.equal(pools[0].size_bytes, null);
    assert.equal(pools[0].allocated_bytes, 200);
    assert.equal(errors.length, 1);
  });
  await t.step("status output that is cut off after the pool line", () => {
    const { pools, errors } = parseZpoolStatusText(
      "  pool: rpool\n state: ONLINE\n",
      utcTime,
    );
    assert.deepEqual(pools, [{
      name: "rpool",
      state: "ONLINE",
      error_count: null,
      vdev_count: 0,
      degraded_vdev_count: 0,
      scan: null,
      last_scrub_end: null,
    }]);
    assert.deepEqual(errors, []);
  });
  await t.step("an unknown scan line and errors line", () => {
    const { pools, errors } = parseZpoolStatusText(
      "  pool: p\n state: ONLINE\n  scan: defragmenting\nconfig:\n\nerrors: who knows\n",
      utcTime,
    );
    assert.equal(pools[0].scan, null);
    assert.equal(pools[0].error_count, null);
    assert.equal(errors.length, 2);
  });
  await t.step("text that is not zpool status at all", () => {
    const { pools, errors } = parseZpoolStatusText(
      "Segmentation fault\n",
      utcTime,
    );
    assert.deepEqual(pools, []);
    assert.equal(errors.length, 1);
  });
  await t.step("no pools", () => {
    assert.deepEqual(parseZpoolStatusText("", utcTime), {
      pools: [],
      errors: [],
    });
  });
});
