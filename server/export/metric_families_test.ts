import assert from "node:assert/strict";
import { sampleFixture } from "../testing/samples.ts";
import {
  FAMILIES,
  payloadSeries,
  POOL_STATES,
  type SeriesValue,
} from "./metric_families.ts";

const fast = await sampleFixture("fast");
const medium = await sampleFixture("medium");
const slow = await sampleFixture("slow");

const of = (series: SeriesValue[], name: string) =>
  series.filter((s) => s.family.name === name);

Deno.test("payloadSeries() turns a fast sample's host figures into base units and ratios", () => {
  const series = payloadSeries("pve-01", { interval: "fast", data: fast }, {
    datasets: false,
  });
  const cpu = of(series, "proxmon_host_cpu_ratio");
  assert.deepEqual(cpu.map((s) => [s.labels, s.value]), [[
    { host: "pve-01" },
    fast.host.cpu_percent! / 100,
  ]]);
  const pools = of(series, "proxmon_zfs_pool_capacity_ratio");
  assert.deepEqual(
    pools.map((s) => s.value),
    fast.zfs_pools.pools.map((p) => p.capacity_percent! / 100),
  );
});

Deno.test("payloadSeries() splits memory into used, arc and free that add up to the total", () => {
  const withArc = structuredClone(fast);
  Object.assign(withArc.host, {
    arc: {
      size_bytes: 8 * 2 ** 30,
      c_max_bytes: 16 * 2 ** 30,
      hits: 1,
      misses: 1,
      hit_ratio: 0.5,
    },
  });
  const mem = of(
    payloadSeries("h", { interval: "fast", data: withArc }, {
      datasets: false,
    }),
    "proxmon_host_memory_bytes",
  );
  const by = Object.fromEntries(mem.map((s) => [s.labels.kind, s.value]));
  assert.deepEqual(Object.keys(by), ["used", "arc", "free"]);
  assert.equal(by.arc, 8 * 2 ** 30);
  assert.equal(by.free, fast.host.mem_available_bytes);
  assert.equal(by.used + by.arc + by.free, fast.host.mem_total_bytes);
});

Deno.test("payloadSeries() gives each pool one health series per state, 1 only for the current one", () => {
  const degraded = structuredClone(fast);
  degraded.zfs_pools.pools[0].health = "DEGRADED";
  const health = of(
    payloadSeries("h", { interval: "fast", data: degraded }, {
      datasets: false,
    }),
    "proxmon_zfs_pool_health",
  ).filter((s) => s.labels.pool === degraded.zfs_pools.pools[0].name);
  assert.deepEqual(health.map((s) => s.labels.state), [...POOL_STATES]);
  assert.deepEqual(
    health.filter((s) => s.value === 1).map((s) => s.labels.state),
    ["DEGRADED"],
  );
});

Deno.test("payloadSeries() leaves out templates, virtual NICs and values a collector could not read", () => {
  const p = structuredClone(fast);
  p.host.load1 = null;
  const series = payloadSeries("h", { interval: "fast", data: p }, {
    datasets: false,
  });
  assert.equal(of(series, "proxmon_host_load1").length, 0);
  const templates = p.vms_runtime.vms.filter((g) => g.template);
  assert.ok(templates.length > 0, "the fixture has a template");
  const vmids = new Set(
    of(series, "proxmon_guest_up").map((s) => s.labels.vmid),
  );
  for (const t of templates) assert.ok(!vmids.has(String(t.vmid)));
  assert.equal(vmids.size, p.vms_runtime.vms.length - templates.length);
  const nics = of(series, "proxmon_host_network_receive_bytes_per_second")
    .map((s) => s.labels.device);
  assert.ok(nics.includes("enp3s0"));
  assert.ok(!nics.includes("vmbr0"), "bridges double-count the NIC's traffic");
});

Deno.test("payloadSeries() keeps to the cardinality budget: no IPs, no snapshot names, datasets only on request", () => {
  const all = [
    ...payloadSeries("h", { interval: "fast", data: fast }, { datasets: true }),
    ...payloadSeries("h", { interval: "medium", data: medium }, {
      datasets: true,
    }),
    ...payloadSeries("h", { interval: "slow", data: slow }, { datasets: true }),
  ];
  const values = all.flatMap((s) => Object.values(s.labels));
  assert.ok(!values.some((v) => v.includes("@")), "snapshot names");
  assert.ok(
    !values.some((v) =>
      /^\d+\.\d+\.\d+\.\d+$|^[0-9a-f:]+:[0-9a-f:]*$/i.test(v)
    ),
    "IP addresses",
  );
  assert.equal(
    payloadSeries("h", { interval: "medium", data: medium }, {
      datasets: false,
    }).length,
    0,
  );
  const datasets = of(all, "proxmon_zfs_dataset_used_bytes");
  assert.equal(datasets.length, medium.zfs_datasets.datasets.length);
});

Deno.test("every family's name follows the Prometheus conventions for its type", () => {
  for (const f of Object.values(FAMILIES)) {
    assert.match(f.name, /^proxmon_[a-z0-9_]+$/);
    if (f.type === "counter") assert.match(f.name, /_total$/, f.name);
    else assert.doesNotMatch(f.name, /_total$/, f.name);
    assert.doesNotMatch(f.name, /_percent|_ms$|_kb$|_mb$/, f.name);
  }
});
