import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import { mergePools } from "./pools.ts";
import { parseZpoolListJson, parseZpoolStatusJson } from "./zpool_json.ts";

const real = (name: string) => readFixture(`zfs/real/${name}`);

/** The pools of a `zpool status -j` output that must parse without errors. */
function statusPools(text: string) {
  const { pools, errors } = parseZpoolStatusJson(text);
  assert.deepEqual(errors, []);
  return pools;
}

/** The pools of a `zpool list -j` output that must parse without errors. */
function listPools(text: string) {
  const { pools, errors } = parseZpoolListJson(text);
  assert.deepEqual(errors, []);
  return pools;
}

Deno.test("parseZpoolListJson() reads sizes and health from properties.*.value", () => {
  const pools = listPools(
    readFixture("zfs/zpool_list.json"),
  );
  assert.deepEqual(pools, [
    {
      name: "rpool",
      health: "ONLINE",
      size_bytes: 500_000_000_000,
      allocated_bytes: 200_000_000_000,
      free_bytes: 300_000_000_000,
      fragmentation_percent: 17,
      capacity_percent: 40,
    },
    {
      name: "tank",
      health: "DEGRADED",
      size_bytes: 8_000_000_000_000,
      allocated_bytes: 6_000_000_000_000,
      free_bytes: 2_000_000_000_000,
      fragmentation_percent: 55,
      capacity_percent: 75,
    },
  ]);
});

Deno.test("parseZpoolStatusJson() summarises a healthy mirror and a raidz2 with a FAULTED disk (seed values)", () => {
  const pools = statusPools(
    readFixture("zfs/zpool_status.json"),
  );
  const [rpool, tank] = pools;
  assert.equal(rpool.error_count, 0);
  assert.equal(rpool.degraded_vdev_count, 0);
  assert.equal(rpool.vdev_count, 2);
  assert.equal(rpool.last_scrub_end, 1776564000); // Sun Apr 19 02:00:00 2026 UTC
  assert.equal(tank.state, "DEGRADED");
  assert.equal(tank.error_count, 2);
  assert.equal(tank.last_scrub_end, 1772352000);
});

Deno.test("parseZpoolStatusJson() counts a FAULTED leaf inside raidz2 as one degraded vdev, not the raidz or the root", () => {
  const tank =
    parseZpoolStatusJson(readFixture("zfs/zpool_status.json")).pools[1];
  assert.equal(tank.degraded_vdev_count, 1);
  // 6 raidz2 disks + l2cache + idle spare; every leaf is listed 2-3 times in the flat output.
  assert.equal(tank.vdev_count, 8);
});

Deno.test("parseZpoolStatusJson() reads scrubs and resilvers in progress", () => {
  const pools = statusPools(
    readFixture("zfs/zpool_status_scanning.json"),
  );
  const byName = Object.fromEntries(pools.map((p) => [p.name, p]));
  assert.deepEqual(byName.rpool.scan, {
    function: "SCRUB",
    state: "SCANNING",
    start_unix: 1762647846,
    end_unix: null, // end_time is 0 while running
    progress_percent: 25, // issued 97.5 GB of 400 GB minus 10 GB skipped
  });
  assert.equal(byName.rpool.last_scrub_end, null);
  assert.deepEqual(byName.tank.scan, {
    function: "RESILVER",
    state: "SCANNING",
    start_unix: 1762657200,
    end_unix: null,
    progress_percent: 60,
  });
  // a paused scrub is still SCANNING
  assert.equal(byName.backup.scan?.state, "SCANNING");
  assert.equal(byName.backup.scan?.progress_percent, 20);
  // never scanned: no scan_stats key at all
  assert.equal(byName.fresh.scan, null);
  assert.equal(byName.fresh.last_scrub_end, null);
});

Deno.test("parseZpoolStatusJson() counts an in-use spare once and the missing disk it replaces as degraded", () => {
  const tank = parseZpoolStatusJson(
    readFixture("zfs/zpool_status_scanning.json"),
  ).pools
    .find((p) => p.name === "tank")!;
  // 5 healthy raidz2 disks + the missing one (CANT_OPEN) + the spare (ONLINE in spare-0, INUSE in the spares list)
  assert.equal(tank.vdev_count, 7);
  assert.equal(tank.degraded_vdev_count, 1);
});

Deno.test("parseZpoolStatusJson() on real OpenZFS output", async (t) => {
  await t.step(
    "2.3.1 single disk: the leaf listed flat and under the root counts once",
    () => {
      const pools = statusPools(
        real(
          "zpool_status_j_flat_int__zfs2.3.1_rpi_single_disk_features_disabled.json",
        ),
      );
      assert.deepEqual(pools, [{
        name: "b6",
        state: "ONLINE",
        error_count: 0,
        vdev_count: 1,
        degraded_vdev_count: 0,
        scan: {
          function: "SCRUB",
          state: "FINISHED",
          start_unix: 1789255441,
          end_unix: 1789256600,
          progress_percent: 100,
        },
        last_scrub_end: 1789256600,
      }]);
    },
  );
  await t.step(
    "2.4.1 OFFLINE disk in a mirror, log, cache, AVAIL spare, never scrubbed",
    () => {
      const [pool] = parseZpoolStatusJson(
        real(
          "zpool_status_j_flat_int__zfs2.4.1_degraded_offline_no_scan_stats_spare_avail.json",
        ),
      ).pools;
      assert.equal(pool.state, "DEGRADED");
      assert.equal(pool.vdev_count, 5);
      assert.equal(pool.degraded_vdev_count, 1);
      assert.equal(pool.scan, null);
      assert.equal(pool.last_scrub_end, null);
    },
  );
  await t.step(
    "2.4.1 ONLINE pool with a data error: error_count comes from the pool, not the vdevs",
    () => {
      const [pool] = parseZpoolStatusJson(
        real("zpool_status_j_flat_int__zfs2.4.1_data_errors_errlist_8A.json"),
      ).pools;
      assert.equal(pool.error_count, 1);
      assert.equal(pool.degraded_vdev_count, 0);
      assert.equal(pool.last_scrub_end, 1790977115);
    },
  );
  await t.step(
    "2.4.1 nested output with a special class beside vdevs and leaves without state",
    () => {
      const pools = statusPools(
        real(
          "zpool_status_j_int_NESTED_-PL__zfs2.4.1_raidz_special_removal_leaf_state_missing.json",
        ),
      );
      assert.deepEqual(
        pools.map((
          p,
        ) => [p.name, p.vdev_count, p.degraded_vdev_count, p.last_scrub_end]),
        [["tank", 15, 0, 1789325257], ["zeta", 2, 0, 1789256310]],
      );
    },
  );
  await t.step(
    "man page example without --json-int: string numbers still convert",
    () => {
      const pools = statusPools(
        real("manpage_zpool-status.8_example2_status_j_c_not_int_pretty.json"),
      );
      assert.equal(pools[0].error_count, 0);
      // raidz1 disks + dedup mirror disks + special disk
      assert.equal(pools[0].vdev_count, 6);
    },
  );
});

Deno.test("parseZpoolListJson() on real OpenZFS output", async (t) => {
  await t.step(
    "2.4.1 --json-int -v: ints, with dedupratio and '-' left as strings",
    () => {
      const pools = listPools(
        real("zpool_list_j_int_pv__zfs2.4.1_raidz_special_indirect.json"),
      );
      assert.deepEqual(pools[0], {
        name: "tank",
        health: "ONLINE",
        size_bytes: 174457276596224,
        allocated_bytes: 110645022535680,
        free_bytes: 63812254060544,
        fragmentation_percent: 9,
        capacity_percent: 63,
      });
      assert.equal(pools.length, 2);
    },
  );
  await t.step(
    "FreeBSD without --json-int: human sizes and percents are converted",
    () => {
      const pools = listPools(
        real("zpool_list_v_j_freebsd_mirrors_log_cache_spare.json"),
      );
      assert.equal(pools[0].size_bytes, 14 * 1024 ** 3);
      assert.equal(pools[0].capacity_percent, 59);
      assert.equal(pools[0].fragmentation_percent, 1);
    },
  );
  await t.step("man page example: 111G, 27%", () => {
    const [pool] = parseZpoolListJson(
      real("manpage_zpool-list.8_example3_list_j_not_int_pretty.json"),
    ).pools;
    assert.equal(pool.size_bytes, 111 * 1024 ** 3);
    assert.equal(pool.capacity_percent, 27);
  });
});

Deno.test("the zpool JSON parsers report broken output instead of throwing", async (t) => {
  await t.step("truncated JSON", () => {
    const text = readFixture("zfs/zpool_status.json");
    const { pools, errors } = parseZpoolStatusJson(
      text.slice(0, text.length / 2),
    );
    assert.deepEqual(pools, []);
    assert.equal(errors[0].tag, "zpool_status");
    assert.match(errors[0].message, /invalid JSON/);
  });
  await t.step("JSON without a pools object", () => {
    const { pools, errors } = parseZpoolListJson('{"output_version":{}}');
    assert.deepEqual(pools, []);
    assert.match(errors[0].message, /no "pools" object/);
  });
  await t.step(
    "words where numbers belong: null plus an error, the rest still read",
    () => {
      const broken = readFixture("zfs/zpool_list.json")
        .replace('"size":{"value":500000000000', '"size":{"value":"lots"')
        .replace('"capacity":{"value":75', '"capacity":{"value":{"oops":1}');
      const { pools, errors } = parseZpoolListJson(broken);
      assert.equal(pools[0].size_bytes, null);
      assert.equal(pools[0].allocated_bytes, 200_000_000_000);
      assert.equal(pools[1].capacity_percent, null);
      assert.deepEqual(errors.map((e) => e.message), [
        'rpool.size: expected a number, got "lots"',
        'tank.capacity: expected a number, got {"oops":1}',
      ]);
    },
  );
});

Deno.test("mergePools() joins list and status by name and keeps pools only one side knows", () => {
  const list = parseZpoolListJson(readFixture("zfs/zpool_list.json")).pools;
  const status =
    parseZpoolStatusJson(readFixture("zfs/zpool_status.json")).pools;
  const merged = mergePools(list, status.slice(1));
  assert.deepEqual(merged.map((p) => [p.name, p.health, p.vdev_count]), [
    ["rpool", "ONLINE", 0],
    ["tank", "DEGRADED", 8],
  ]);
  assert.equal(merged[0].error_count, null);
  const statusOnly = mergePools([], status);
  assert.deepEqual(statusOnly.map((p) => [p.name, p.health, p.size_bytes]), [
    ["rpool", "ONLINE", null],
    ["tank", "DEGRADED", null],
  ]);
});
