import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import { parseZfsListJson, parseZfsListText } from "./datasets.ts";

Deno.test("parseZfsListJson() returns datasets with their own snapshot count, newest and oldest (seed values)", () => {
  const { datasets, errors } = parseZfsListJson(
    readFixture("zfs/zfs_list.json"),
  );
  assert.deepEqual(errors, []);
  assert.equal(datasets.length, 2); // snapshots are not datasets
  const rpoolData = datasets.find((d) => d.name === "rpool/data")!;
  assert.deepEqual(rpoolData, {
    name: "rpool/data",
    type: "filesystem",
    used_bytes: 100_000_000_000,
    available_bytes: 300_000_000_000,
    usedbysnapshots_bytes: 2_000_000_000,
    snapshot_count: 2,
    newest_snapshot_unix: 1_745_193_600,
    oldest_snapshot_unix: 1_745_107_200,
  });
  const rpool = datasets.find((d) => d.name === "rpool")!;
  assert.equal(rpool.snapshot_count, 0); // a child's snapshots are not the parent's
  assert.equal(rpool.newest_snapshot_unix, null);
});

Deno.test("parseZfsListJson() includes zvols and ignores bookmarks", () => {
  const { datasets, errors } = parseZfsListJson(
    readFixture("zfs/zfs_list_pve.json"),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(
    datasets.map((d) => [d.name, d.type, d.snapshot_count]),
    [
      ["rpool", "filesystem", 0],
      ["rpool/ROOT", "filesystem", 0],
      ["rpool/ROOT/pve-1", "filesystem", 1],
      ["rpool/data", "filesystem", 0],
      ["rpool/data/base-9000-disk-0", "volume", 1],
      ["rpool/data/subvol-200-disk-0", "filesystem", 1],
      ["rpool/data/vm-100-disk-0", "volume", 2],
      ["rpool/data/vm-101-disk-0", "volume", 0],
    ],
  );
  const vm100 = datasets.find((d) => d.name === "rpool/data/vm-100-disk-0")!;
  assert.equal(vm100.usedbysnapshots_bytes, 3221225472);
  assert.equal(vm100.newest_snapshot_unix, 1762646400);
  assert.equal(vm100.oldest_snapshot_unix, 1762560000);
});

Deno.test("parseZfsListText() gives the same summaries as the JSON form", async (t) => {
  for (const name of ["zfs_list", "zfs_list_pve"]) {
    await t.step(name, () => {
      const text = parseZfsListText(readFixture(`zfs/${name}.txt`));
      assert.deepEqual(text.errors, []);
      assert.deepEqual(text, parseZfsListJson(readFixture(`zfs/${name}.json`)));
    });
  }
});

Deno.test("parseZfsListJson() reads the man page example without --json-int (human sizes, no creation)", () => {
  const { datasets, errors } = parseZfsListJson(
    readFixture(
      "zfs/real/manpage_zfs-list.8_example2_list_j_fs_snap_not_int_pretty.json",
    ),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(datasets.map((d) => d.name), [
    "pool",
    "pool/home",
    "pool/home/bob",
  ]);
  const bob = datasets[2];
  assert.equal(bob.used_bytes, 24 * 1024);
  assert.equal(bob.snapshot_count, 1);
  assert.equal(bob.newest_snapshot_unix, null); // the example lists no creation property
});

Deno.test("the zfs list parsers report broken output and keep what they can read", async (t) => {
  await t.step("truncated JSON", () => {
    const text = readFixture("zfs/zfs_list.json");
    const result = parseZfsListJson(text.slice(0, 200));
    assert.deepEqual(result.datasets, []);
    assert.match(result.errors[0].message, /invalid JSON/);
  });
  await t.step(
    "a snapshot creation that is not a number still counts the snapshot",
    () => {
      const broken = readFixture("zfs/zfs_list.json").replace(
        '"creation":{"value":1745193600',
        '"creation":{"value":"yesterday"',
      );
      const { datasets, errors } = parseZfsListJson(broken);
      const data = datasets.find((d) => d.name === "rpool/data")!;
      assert.equal(data.snapshot_count, 2);
      assert.equal(data.newest_snapshot_unix, 1745107200);
      assert.equal(errors.length, 1);
    },
  );
  await t.step("a text line with missing columns", () => {
    const { datasets, errors } = parseZfsListText(
      "rpool\tfilesystem\t1\nok\tvolume\t1\t2\t0\t3\n",
    );
    assert.deepEqual(datasets.map((d) => d.name), ["ok"]);
    assert.match(errors[0].message, /expected 6 tab-separated columns/);
  });
});
