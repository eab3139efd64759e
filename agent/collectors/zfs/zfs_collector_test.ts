import assert from "node:assert/strict";
import type { CommandError } from "../../runner.ts";
import { type FakeAnswer, fakeRunner } from "../../testing/fake_runner.ts";
import {
  type Command,
  lineOf,
  ZFS_LIST_JSON,
  ZPOOL_LIST_JSON,
  ZPOOL_STATUS_JSON,
} from "../commands.ts";
import { readFixture } from "../../testing/fixtures.ts";
import { zfs22Answers } from "../../testing/test_node.ts";
import { utcTime } from "./scan.ts";
import { createZfsCollector } from "./zfs_collector.ts";

const JSON_ANSWERS: Record<string, FakeAnswer> = {
  [lineOf(ZPOOL_LIST_JSON)]: readFixture("zfs/zpool_list.json"),
  [lineOf(ZPOOL_STATUS_JSON)]: readFixture("zfs/zpool_status.json"),
  [lineOf(ZFS_LIST_JSON)]: readFixture("zfs/zfs_list.json"),
};

const TEXT_ANSWERS = zfs22Answers("zfs/zfs_list.txt");

const exec = (answers: Record<string, FakeAnswer>) => {
  const runner = fakeRunner(answers);
  return {
    runner,
    zfs: createZfsCollector({ runner, timeoutMs: 5000 }, utcTime),
  };
};

Deno.test("createZfsCollector() returns a summary per pool from the OpenZFS 2.3 JSON commands (seed values)", async () => {
  const { runner, zfs } = exec(JSON_ANSWERS);
  const sample = await zfs.pools();
  assert.deepEqual(sample.errors, []);
  assert.equal(sample.pools.length, 2);
  const [rpool, tank] = sample.pools;
  assert.equal(rpool.health, "ONLINE");
  assert.equal(rpool.capacity_percent, 40);
  assert.equal(rpool.fragmentation_percent, 17);
  assert.equal(rpool.size_bytes, 500_000_000_000);
  assert.equal(rpool.error_count, 0);
  assert.equal(rpool.degraded_vdev_count, 0);
  assert.equal(tank.health, "DEGRADED");
  assert.equal(tank.error_count, 2);
  assert.equal(tank.degraded_vdev_count, 1);
  assert.deepEqual(runner.calls.sort(), [
    "zpool list -j --json-int",
    "zpool status -j --json-flat-vdevs --json-int",
  ]);
  assert.equal(zfs.mode(), "json");
});

Deno.test("createZfsCollector() returns datasets from zfs list -j (seed values)", async () => {
  const { runner, zfs } = exec(JSON_ANSWERS);
  const sample = await zfs.datasets();
  assert.deepEqual(sample.errors, []);
  assert.equal(sample.datasets.length, 2);
  assert.equal(sample.datasets[1].snapshot_count, 2);
  assert.deepEqual(runner.calls, [
    "zfs list -j --json-int -t all -o name,type,used,available,usedbysnapshots,creation",
  ]);
});

Deno.test("createZfsCollector() switches to the text form once ZFS 2.2 refuses -j, and stays there", async () => {
  const json = await exec(JSON_ANSWERS).zfs.pools();
  const { runner, zfs } = exec(TEXT_ANSWERS);

  const first = await zfs.pools();
  assert.deepEqual(first, json); // same summaries, no error entries for the refusal
  assert.equal(zfs.mode(), "text");

  runner.calls.length = 0;
  await zfs.pools();
  const datasets = await zfs.datasets();
  assert.equal(datasets.datasets.length, 2);
  assert.deepEqual(runner.calls.sort(), [
    "zfs list -Hp -t all -o name,type,used,available,usedbysnapshots,creation",
    "zpool list -Hp -o name,size,alloc,free,frag,cap,health",
    "zpool status -p",
  ]);
});

Deno.test("createZfsCollector() reports failures as errors and keeps the other half of the pool data", async (t) => {
  const fail = (error: CommandError): FakeAnswer => ({ error });
  /** The ZFS 2.3 node, but for one command's answer. */
  const butFor = (c: Command, answer: FakeAnswer) =>
    exec({ ...JSON_ANSWERS, [lineOf(c)]: answer }).zfs;
  await t.step(
    "zpool missing altogether: no pools, errors from both commands",
    async () => {
      const { zfs } = exec({});
      const sample = await zfs.pools();
      assert.deepEqual(sample.pools, []);
      assert.deepEqual(sample.errors.map((e) => e.tag).sort(), [
        "zpool_list",
        "zpool_status",
      ]);
      assert.match(sample.errors[0].message, /command not found/);
      assert.equal(zfs.mode(), "json"); // a missing binary is not a refusal of -j
    },
  );
  await t.step(
    "zpool status times out: pools still listed with their usage",
    async () => {
      const zfs = butFor(
        ZPOOL_STATUS_JSON,
        fail({ kind: "timeout", timeoutMs: 5000, message: "killed" }),
      );
      const sample = await zfs.pools();
      assert.deepEqual(
        sample.pools.map((p) => [p.name, p.capacity_percent, p.error_count]),
        [
          ["rpool", 40, null],
          ["tank", 75, null],
        ],
      );
      assert.deepEqual(sample.errors, [{
        tag: "zpool_status",
        message:
          "zpool status -j --json-flat-vdevs --json-int: timed out after 5000 ms",
      }]);
      assert.equal(zfs.mode(), "json");
    },
  );
  await t.step(
    "an unrelated non-zero exit does not switch to text",
    async () => {
      const zfs = butFor(
        ZFS_LIST_JSON,
        fail({
          kind: "nonzero_exit",
          code: 1,
          stdout: "",
          stderr: "internal error: out of memory\n",
          message: "exit 1",
        }),
      );
      const sample = await zfs.datasets();
      assert.deepEqual(sample.datasets, []);
      assert.match(
        sample.errors[0].message,
        /exited with code 1: internal error: out of memory/,
      );
      assert.equal(zfs.mode(), "json");
    },
  );
  await t.step("truncated JSON from zpool list", async () => {
    const zfs = butFor(
      ZPOOL_LIST_JSON,
      readFixture("zfs/zpool_list.json").slice(0, 100),
    );
    const sample = await zfs.pools();
    assert.equal(sample.pools.length, 2); // from zpool status
    assert.equal(sample.pools[0].size_bytes, null);
    assert.equal(sample.errors[0].tag, "zpool_list");
  });
});

Deno.test("createZfsCollector() keeps its mode per collector object", async () => {
  const text = exec(TEXT_ANSWERS);
  await text.zfs.pools();
  const fresh = createZfsCollector(
    { runner: text.runner, timeoutMs: 5000 },
    utcTime,
  );
  assert.equal(text.zfs.mode(), "text");
  assert.equal(fresh.mode(), "json");
});
