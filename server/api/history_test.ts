import assert from "node:assert/strict";
import { createHost } from "../store/hosts.ts";
import { recordSamples } from "../store/sample_store.ts";
import { createTestApp } from "../testing/test_app.ts";
import { cpuAt, fillFast } from "../testing/series_samples.ts";
import { sampleFixture } from "../testing/samples.ts";

const MIN = 60_000;

async function withHost(
  fn: (
    t: Awaited<ReturnType<typeof createTestApp>>,
    from: number,
    count: number,
  ) => Promise<void>,
) {
  await using t = await createTestApp();
  const { host } = await createHost(t.db.database, "pve-01", Date.now());
  // 3 hours at 30 s, ending a minute ago
  const count = 360;
  const from = Date.now() - count * 30_000 - MIN;
  await fillFast(t.db.database, {
    hostId: host.id,
    fromMs: from,
    count,
    stepMs: 30_000,
  });
  await fn(t, from, count);
}

const get = async (
  t: { app: { request(p: string): Response | Promise<Response> } },
  q: string,
) => {
  const res = await t.app.request(`/api/hosts/pve-01/history?${q}`);
  return { status: res.status, body: await res.json() };
};

Deno.test("history: guest_cpu, guest_net, pool_capacity and storage_used read their object's series", async () => {
  await withHost(async (t, _from, count) => {
    const cpu = await get(t, "metric=guest_cpu&vmid=100&range=6h&points=2000");
    assert.equal(cpu.status, 200, JSON.stringify(cpu.body));
    assert.equal(cpu.body.tier, "raw");
    assert.equal(cpu.body.unit, "percent");
    const values = cpu.body.data[1].filter((x: number | null) => x !== null);
    assert.equal(values.length, count);
    assert.equal(values[5], (5 * 7 + 100) % 100); // cpu_usage 0.35 -> 35 %
    const net = await get(t, "metric=guest_net&vmid=100&range=6h&points=2000");
    // netin grows 1000 bytes a sample, 30 s apart
    assert.equal(
      net.body.data[1].find((x: number | null) => x !== null),
      Math.round(1000 / 30),
    );
    const pool = await get(t, "metric=pool_capacity&pool=tank&range=6h");
    assert.deepEqual(pool.body.series.map((s: { key: string }) => s.key), [
      "capacity",
    ]);
    assert.equal(pool.body.data[1].find((x: number | null) => x !== null), 62);
    const storage = await get(t, "metric=storage_used&storage=local&range=6h");
    assert.equal(storage.body.unit, "bytes");
    assert.equal(storage.body.significant_digits, 4);
    assert.equal(cpu.body.significant_digits, null);
    assert.equal(
      storage.body.data[1].find((x: number | null) => x !== null),
      7_954_000_000, // 7954198528 to 4 significant digits (series_catalog.ts)
    );
    const missing = await get(t, "metric=guest_cpu&range=6h");
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /vmid/);
  });
});

Deno.test("history: rolled-up ranges carry min and max per bucket, and stat picks what data holds", async () => {
  await withHost(async (t, from) => {
    const avg = await get(t, "metric=cpu&range=24h&points=48");
    assert.equal(avg.body.tier, "1m");
    assert.equal(avg.body.stat, "avg");
    const [s] = avg.body.series;
    assert.equal(s.min.length, avg.body.data[0].length);
    const max = await get(t, "metric=cpu&range=24h&points=48&stat=max");
    const min = await get(t, "metric=cpu&range=24h&points=48&stat=min");
    // buckets are 30 min = 60 samples; CPU rises by 0.01 a sample
    const last = (a: (number | null)[]) => a.filter((x) => x !== null);
    const i = last(avg.body.data[1]).length - 2; // a full bucket
    const a = last(avg.body.data[1])[i]!;
    const lo = last(min.body.data[1])[i]!;
    const hi = last(max.body.data[1])[i]!;
    assert.ok(lo < a && a < hi, `${lo} < ${a} < ${hi}`);
    assert.equal(last(s.min)[i], lo);
    assert.equal(last(s.max)[i], hi);
    assert.ok(Math.abs(hi - lo - 0.59) < 0.011, `${hi - lo}`);
    // raw ranges have no bands
    const raw = await get(t, "metric=cpu&range=1h");
    assert.equal(raw.body.tier, "raw");
    assert.equal(raw.body.series[0].min, undefined);
    assert.ok(from > 0 && cpuAt(0) === 0);
    const year = await get(t, "metric=cpu&range=1y&points=1000");
    assert.equal(year.status, 200);
    assert.equal(year.body.tier, "1h");
    assert.equal(year.body.significant_digits, null); // percent: exact
    const yearMem = await get(t, "metric=mem&range=1y&points=1000");
    assert.equal(yearMem.body.significant_digits, 3);
    // 8.76 h buckets: the 3 h of data fall in one or two
    assert.ok(last(year.body.data[1]).length >= 1);
  });
});

Deno.test("events: state changes of a host, filtered by kind and object", async () => {
  await using t = await createTestApp();
  const { host } = await createHost(t.db.database, "pve-01", Date.now());
  const a = await sampleFixture("fast");
  const b = structuredClone(a);
  b.vms_runtime.vms[0].status = "stopped";
  const at = Date.now() - 20_000;
  await recordSamples(t.db.database, [
    { hostId: host.id, interval: "fast", collectedAtMs: at, data: a },
    { hostId: host.id, interval: "fast", collectedAtMs: at + 10_000, data: b },
  ], Date.now());
  const res = await t.app.request(
    "/api/hosts/pve-01/events?kind=guest.status&object=100",
  );
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(
    body.events.map((
      e: { at: string; value: string; previous: string | null },
    ) => [e.at, e.value, e.previous]),
    [
      [new Date(at + 10_000).toISOString(), "stopped", "running"],
      [new Date(at).toISOString(), "running", null],
    ],
  );
  const pools =
    await (await t.app.request("/api/hosts/pve-01/events?kind=pool")).json();
  assert.ok(
    pools.events.length >= 4 &&
      pools.events.every((e: { kind: string }) => e.kind.startsWith("pool.")),
  );
  assert.equal((await t.app.request("/api/hosts/nope/events")).status, 404);
  assert.equal(
    (await t.app.request("/api/hosts/pve-01/events?kind=DROP%20TABLE")).status,
    400,
  );
});
