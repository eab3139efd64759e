/**
 * The rules on a percentage (host_cpu, host_memory, pool_capacity,
 * storage_capacity) on a real fast sample: each object's value, how it is
 * shown and the summary, known or not.
 */
import * as assert from "node:assert/strict";
import { sampleFixture } from "../../testing/samples.ts";
import { hostCpu } from "./host_cpu.ts";
import { hostMemory } from "./host_memory.ts";
import { poolCapacity } from "./pool_capacity.ts";
import { type RuleDef, ruleSample } from "./rule.ts";
import { storageCapacity } from "./storage_capacity.ts";

const T0 = Date.UTC(2026, 5, 1);
const GIB = 2 ** 30;

async function observe(rule: RuleDef, edit: (d: FastData) => void) {
  const data = await sampleFixture("fast");
  edit(data);
  const sample = ruleSample("pve", T0, { interval: "fast", data });
  return rule.evaluate!(sample, undefined as never)?.map((o) => ({
    object: o.object,
    value: o.value,
    shown: o.shown,
    summary: o.summary,
  }));
}
type FastData = Awaited<ReturnType<typeof sampleFixture<"fast">>>;

Deno.test("host_cpu shows the host's CPU percent, or unknown", async () => {
  assert.deepEqual(
    await observe(hostCpu, (d) => d.host.cpu_percent = 92.34),
    [{ object: null, value: 92.34, shown: "92.3 %", summary: "CPU at 92.3 %" }],
  );
  assert.deepEqual(
    await observe(hostCpu, (d) => d.host.cpu_percent = null),
    [{ object: null, value: null, shown: "unknown", summary: "CPU at ?" }],
  );
});

Deno.test("host_memory counts memory without the ARC, or says unknown", async () => {
  const [known] = (await observe(hostMemory, (d) => {
    d.host.mem_total_bytes = 100 * GIB;
    d.host.mem_available_bytes = 20 * GIB;
    d.host.arc = { ...d.host.arc!, size_bytes: 30 * GIB };
  }))!;
  assert.deepEqual(known, {
    object: null,
    value: 50,
    shown: "50 %",
    summary: "memory (without ARC) at 50 %",
  });
  assert.deepEqual(
    await observe(hostMemory, (d) => d.host.mem_total_bytes = null),
    [{
      object: null,
      value: null,
      shown: "unknown",
      summary: "memory (without ARC) at ?",
    }],
  );
});

Deno.test("pool_capacity judges each pool, unknown capacity included", async () => {
  const got = await observe(poolCapacity, (d) => {
    d.zfs_pools.pools = [
      { ...d.zfs_pools.pools[0], name: "tank", capacity_percent: 81 },
      { ...d.zfs_pools.pools[0], name: "rpool", capacity_percent: null },
    ];
  });
  assert.deepEqual(got, [
    {
      object: "tank",
      value: 81,
      shown: "81 %",
      summary: "pool tank is 81 % full",
    },
    {
      object: "rpool",
      value: null,
      shown: "unknown",
      summary: "pool rpool is ? full",
    },
  ]);
  assert.equal(
    await observe(
      poolCapacity,
      (d) => (d as { zfs_pools: unknown }).zfs_pools = null,
    ),
    undefined,
  );
});

Deno.test("storage_capacity judges active, enabled storages that report use", async () => {
  const got = await observe(storageCapacity, (d) => {
    const s = d.storage.storages[0];
    d.storage.storages = [
      { ...s, name: "local", active: true, enabled: true, used_fraction: 0.9 },
      { ...s, name: "nfs", active: false, enabled: true, used_fraction: 0.99 },
      { ...s, name: "off", active: true, enabled: true, used_fraction: null },
    ];
  });
  assert.deepEqual(got, [{
    object: "local",
    value: 90,
    shown: "90 %",
    summary: "storage local is 90 % full",
  }]);
});
