import assert from "node:assert/strict";
import { NODE_VMIDS } from "../../testing/test_node.ts";
import { readFixture } from "../../testing/fixtures.ts";
import { clusterResourcesOf } from "./cluster_resources.ts";
import { parseLxcList, parseQemuList } from "./guest_lists.ts";

const json = (name: string) => JSON.parse(readFixture(name));

Deno.test("clusterResourcesOf() reads a real PVE 9 guest entry: maxcpu as cpus, template 0 as false", () => {
  const { vms_runtime } = clusterResourcesOf(
    json("pvesh/real/cluster_resources_type_vm__pve9_one_vm.json"),
    "erplibre-proxmox-9",
  );
  assert.deepEqual(vms_runtime, {
    vms: [{
      vmid: 100,
      type: "qemu",
      name: "pve-suivi",
      status: "running",
      uptime_seconds: 127,
      cpu_usage: 0.01,
      cpus: 1,
      mem_bytes: 385351680,
      max_mem_bytes: 536870912,
      tags: [],
      template: false,
      lock: null,
      disk_bytes: 0,
      max_disk_bytes: 4294967296,
      netin_bytes: 190,
      netout_bytes: 0,
      diskread_bytes: 32633856,
      diskwrite_bytes: 328233472,
      // /cluster/resources has no pressure* (the per-node lists do)
      psi: null,
    }],
    errors: [],
  });
});

Deno.test("clusterResourcesOf() reads real storage entries: disk/maxdisk, plugintype, status", () => {
  const { storage } = clusterResourcesOf(
    json(
      "pvesh/real/pvesh_get_cluster_resources_type_storage__cv4pve-diag_issue52_pve8.2plus_NOT_TARGET.json",
    ),
    "enterprise",
  );
  assert.deepEqual(storage.errors, []);
  assert.deepEqual(storage.storages[1], {
    name: "local",
    type: "dir",
    content: ["iso", "vztmpl", "snippets", "import", "backup"],
    active: true,
    enabled: true,
    shared: false,
    used_bytes: 7954288640,
    total_bytes: 100861726720,
    // The same storage's /nodes/enterprise/storage entry in that issue
    // starts avail:87736700928 (100861726720 - 7954288640 - reserved blocks).
    avail_bytes: 100861726720 - 7954288640,
    used_fraction: 7954288640 / 100861726720,
  });
  assert.equal(storage.storages[0].shared, true);
  assert.equal(storage.storages[0].type, "nfs");
});

Deno.test("clusterResourcesOf() keeps this node's guests and storages, and matches the per-node lists", () => {
  const { storage, vms_runtime } = clusterResourcesOf(
    json("pvesh/cluster_resources.json"),
    "pve-01",
  );
  assert.deepEqual(vms_runtime.errors, []);
  // pve-02's guest and storage, and the node entry, are left out
  assert.deepEqual(vms_runtime.vms.map((g) => g.vmid), NODE_VMIDS);
  const lists = [
    ...parseQemuList(readFixture("pvesh/qemu.json")).vms,
    ...parseLxcList(readFixture("pvesh/lxc.json")).vms,
  ].sort((a, b) => a.vmid - b.vmid);
  // The same guests field for field, but for PVE 9's pressure, which only
  // the per-node lists carry.
  assert.ok(lists.some((g) => g.psi !== null));
  assert.ok(vms_runtime.vms.every((g) => g.psi === null));
  assert.deepEqual(
    vms_runtime.vms,
    lists.map((g) => ({ ...g, psi: null })),
  );

  assert.deepEqual(storage.storages.map((s) => [s.name, s.active]), [
    ["local-zfs", true],
    ["backup-nfs", false],
    ["local", true],
  ]);
  const nfs = storage.storages[1];
  assert.deepEqual(
    [nfs.total_bytes, nfs.used_bytes, nfs.avail_bytes, nfs.used_fraction],
    [0, 0, 0, null],
  );
});

Deno.test("clusterResourcesOf() reports what it cannot read and keeps the rest", () => {
  const broken = clusterResourcesOf({ data: [] }, "pve-01");
  assert.deepEqual(broken.vms_runtime.vms, []);
  assert.match(broken.storage.errors[0].message, /expected a JSON array/);

  const partial = clusterResourcesOf([
    { type: "qemu", node: "pve-01", vmid: "x" },
    { type: "lxc", node: "pve-01", vmid: 7, status: "unknown" },
    { type: "storage", node: "pve-01", status: "available", maxdisk: 1 },
  ], "pve-01");
  assert.deepEqual(partial.vms_runtime.vms.map((g) => [g.vmid, g.name]), [
    [7, "CT7"],
  ]);
  assert.equal(partial.vms_runtime.errors.length, 1);
  assert.match(partial.storage.errors[0].message, /without a storage name/);
});
