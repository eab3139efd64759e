import assert from "node:assert/strict";
import { fakeRunner } from "../../testing/fake_runner.ts";
import { lineOf, storageList } from "../commands.ts";
import { readFixture } from "../../testing/fixtures.ts";
import { collectStorage, parseStorage } from "./storage.ts";
import { pveshSource } from "./pve_source.ts";

Deno.test("collectStorage() returns one summary per storage entry (seed values)", async () => {
  const runner = fakeRunner({
    [lineOf(storageList("pve-01"))]: readFixture("pvesh/storage.json"),
  });
  const sample = await collectStorage(
    pveshSource({ runner, timeoutMs: 1000 }),
    "pve-01",
  );
  assert.deepEqual(sample.errors, []);
  assert.equal(sample.storages.length, 4);
  const local = sample.storages.find((s) => s.name === "local")!;
  assert.equal(local.type, "dir");
  assert.equal(local.active, true);
  assert.equal(local.used_bytes, 50_000_000_000);
  assert.equal(local.total_bytes, 500_000_000_000);
  assert.deepEqual(local.content, ["backup", "iso", "vztmpl"]);
  assert.equal(local.used_fraction, 0.1);
  const nfs = sample.storages.find((s) => s.name === "backup-nfs")!;
  assert.equal(nfs.active, false);
  assert.equal(nfs.shared, true);
  assert.deepEqual(runner.calls, [
    "pvesh get /nodes/pve-01/storage --output-format json",
  ]);
});

Deno.test("parseStorage() gives null used_fraction where PVE leaves it out (inactive, disabled)", () => {
  const { storages } = parseStorage(readFixture("pvesh/storage.json"));
  const byName = Object.fromEntries(storages.map((s) => [s.name, s]));
  assert.equal(byName["backup-nfs"].used_fraction, null);
  assert.equal(byName["backup-nfs"].total_bytes, 0);
  assert.equal(byName["usb-old"].enabled, false);
  assert.equal(byName["usb-old"].used_fraction, null);
  assert.equal(byName["local-zfs"].used_fraction, 0.4);
});

Deno.test("collectStorage() turns a failed pvesh into an error entry", async () => {
  const sample = await collectStorage(
    pveshSource({ runner: fakeRunner({}), timeoutMs: 1000 }),
    "pve-01",
  );
  assert.deepEqual(sample.storages, []);
  assert.equal(sample.errors.length, 1);
  assert.equal(sample.errors[0].tag, "storage");
});

Deno.test("parseStorage() reports the /cluster/resources vocabulary's missing fields instead of inventing values", () => {
  // Real PVE 8.2+ output of a different endpoint: disk/maxdisk instead of used/total.
  const { storages, errors } = parseStorage(
    readFixture(
      "pvesh/real/pvesh_get_cluster_resources_type_storage__cv4pve-diag_issue52_pve8.2plus_NOT_TARGET.json",
    ),
  );
  assert.deepEqual(
    storages.map((s) => [s.name, s.used_bytes, s.content.length]),
    [
      ["truenas-backups", null, 1],
      ["local", null, 5],
      ["local-lvm", null, 2],
    ],
  );
  assert.equal(errors.length, 3);
  assert.match(
    errors[0].message,
    /truenas-backups: missing total, used, avail/,
  );
});

Deno.test("parseStorage() survives broken output", async (t) => {
  await t.step("truncated JSON", () => {
    const result = parseStorage(readFixture("pvesh/storage.json").slice(0, 90));
    assert.deepEqual(result.storages, []);
    assert.match(result.errors[0].message, /invalid JSON/);
  });
  await t.step("an object instead of a list", () => {
    assert.equal(parseStorage('{"storage":"local"}').errors.length, 1);
  });
  await t.step(
    "strings where numbers belong, and an entry without a name",
    () => {
      const { storages, errors } = parseStorage(
        '[{"storage":"a","type":"dir","total":"1000","used":"lots","avail":0},{"type":"dir"}]',
      );
      assert.deepEqual(
        storages.map((s) => [s.name, s.total_bytes, s.used_bytes]),
        [["a", 1000, null]],
      );
      assert.equal(errors.length, 2);
    },
  );
});
