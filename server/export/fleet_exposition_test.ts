import assert from "node:assert/strict";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { createHost } from "../store/hosts.ts";
import { sampleFixture } from "../testing/samples.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { createExpositionWriter } from "./exposition.ts";
import {
  createFleetExposition,
  type FleetBody,
  PRERENDER_WINDOW_MS,
} from "./fleet_exposition.ts";
import { createLatestCache } from "./latest_state.ts";
import {
  emitPayloadSeries,
  FAMILIES,
  type HostSample,
} from "./metric_families.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const fast = await sampleFixture("fast");
const medium = await sampleFixture("medium");
const slow = await sampleFixture("slow");
const withCpu = (cpu: number) => ({
  ...fast,
  host: { ...fast.host, cpu_percent: cpu },
});

async function fleetOf(names: string[]) {
  const t = await openTempDatabase();
  const latest = createLatestCache(t.database);
  const clock = fakeClock(T0);
  const deferred: (() => void)[] = [];
  const exposition = createFleetExposition({
    latest,
    clock,
    defer: (fn) => deferred.push(fn),
  });
  const hosts = [];
  for (const name of names) {
    hosts.push((await createHost(t.database, name, T0)).host);
  }
  const store = (samples: (HostSample & { hostId: number })[]) => {
    latest.observe(samples);
    exposition.observe(samples);
  };
  return { t, latest, exposition, clock, deferred, hosts, store };
}

const text = (body: FleetBody) =>
  new TextDecoder().decode(new Uint8Array([...body.state, ...body.samples]));

Deno.test("createFleetExposition() renders what the mapping gives for each host's latest samples, host state first", async () => {
  const f = await fleetOf(["pve-01", "pve-02"]);
  await using _ = f.t;
  const [a, b] = f.hosts;
  f.store([
    {
      hostId: a.id,
      hostName: a.name,
      collectedAtMs: T0,
      interval: "fast",
      data: withCpu(10),
    },
    {
      hostId: a.id,
      hostName: a.name,
      collectedAtMs: T0,
      interval: "slow",
      data: slow,
    },
    {
      hostId: b.id,
      hostName: b.name,
      collectedAtMs: T0 + 1,
      interval: "fast",
      data: withCpu(20),
    },
    {
      hostId: b.id,
      hostName: b.name,
      collectedAtMs: T0,
      interval: "medium",
      data: medium,
    },
  ]);
  const got = text(await f.exposition.render({ datasets: true }));

  // The same series through the mapping directly, host by host.
  const w = createExpositionWriter();
  for (const h of [a, b]) {
    w.emit(FAMILIES.hostUp, { host: h.name }, 0);
  }
  const emitSample = (host: string, s: HostSample) => {
    w.emit(
      FAMILIES.hostSampleTime,
      { host, interval: s.interval },
      s.collectedAtMs / 1000,
    );
    emitPayloadSeries(host, s, { datasets: true }, w.emit);
  };
  emitSample(a.name, {
    hostName: a.name,
    collectedAtMs: T0,
    interval: "fast",
    data: withCpu(10),
  });
  emitSample(a.name, {
    hostName: a.name,
    collectedAtMs: T0,
    interval: "slow",
    data: slow,
  });
  emitSample(b.name, {
    hostName: b.name,
    collectedAtMs: T0 + 1,
    interval: "fast",
    data: withCpu(20),
  });
  emitSample(b.name, {
    hostName: b.name,
    collectedAtMs: T0,
    interval: "medium",
    data: medium,
  });
  assert.equal(got, w.text());
  assert.ok(got.includes('proxmon_host_cpu_ratio{host="pve-02"} 0.2\n'));
  assert.ok(got.includes("proxmon_zfs_dataset_used_bytes{"));
});

Deno.test("createFleetExposition() serves the same samples' bytes until a latest sample changes, then the new sample's lines", async () => {
  const f = await fleetOf(["pve-01", "pve-02"]);
  await using _ = f.t;
  const [a, b] = f.hosts;
  const sample = (h: typeof a, at: number, cpu: number) => ({
    hostId: h.id,
    hostName: h.name,
    collectedAtMs: at,
    interval: "fast" as const,
    data: withCpu(cpu),
  });
  f.store([sample(a, T0, 10), sample(b, T0, 20)]);
  const first = await f.exposition.render({ datasets: false });
  const again = await f.exposition.render({ datasets: false });
  assert.equal(again.samples, first.samples, "nothing joined again");
  assert.notEqual(again.state, first.state, "the hosts' state is fresh");
  const withDatasets = await f.exposition.render({ datasets: true });
  assert.notEqual(withDatasets.samples, first.samples);
  assert.equal(
    (await f.exposition.render({ datasets: false })).samples,
    first.samples,
    "each variant keeps its own",
  );
  f.store([sample(a, T0 + 10_000, 30)]);
  const changed = await f.exposition.render({ datasets: false });
  assert.notEqual(changed.samples, first.samples);
  assert.equal(
    text(changed),
    text(first).replace(
      'proxmon_host_cpu_ratio{host="pve-01"} 0.1\n',
      'proxmon_host_cpu_ratio{host="pve-01"} 0.3\n',
    ).replace(
      `proxmon_host_sample_timestamp_seconds{host="pve-01",interval="fast"} ${
        T0 / 1000
      }\n`,
      `proxmon_host_sample_timestamp_seconds{host="pve-01",interval="fast"} ${
        (T0 + 10_000) / 1000
      }\n`,
    ),
    "only pve-01's changed lines differ",
  );
  const out = text(changed);
  assert.ok(out.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.3\n'));
  assert.ok(!out.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.1\n'));
});

Deno.test("createFleetExposition() renders new samples ahead of the next scrape only while something scrapes", async () => {
  const f = await fleetOf(["pve-01"]);
  await using _ = f.t;
  const [a] = f.hosts;
  const sample = (at: number, cpu: number) => ({
    hostId: a.id,
    hostName: a.name,
    collectedAtMs: at,
    interval: "fast" as const,
    data: withCpu(cpu),
  });
  f.store([sample(T0, 10)]);
  assert.equal(f.deferred.length, 0, "never scraped: nothing rendered");
  await f.exposition.render({ datasets: false });
  // 40 samples of one host: only the newest is worth rendering.
  f.store(Array.from({ length: 40 }, (_, i) => sample(T0 + i + 1, i)));
  assert.equal(f.deferred.length, 1);
  f.deferred.shift()!();
  assert.equal(f.deferred.length, 0, "one sample left to render, in one turn");
  const out = text(await f.exposition.render({ datasets: false }));
  assert.ok(out.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.39\n'));
  f.clock.jump(PRERENDER_WINDOW_MS + 1);
  f.store([sample(T0 + 100, 50)]);
  assert.equal(f.deferred.length, 0, "no scrape for a while: left for one");
  const late = text(await f.exposition.render({ datasets: false }));
  assert.ok(late.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.5\n'));
});

Deno.test("createFleetExposition() joins a changed fleet into a buffer no response still sends, never into one that is", async () => {
  const f = await fleetOf(["pve-01"]);
  await using _ = f.t;
  const [a] = f.hosts;
  const store = (i: number) =>
    f.store([{
      hostId: a.id,
      hostName: a.name,
      collectedAtMs: T0 + i * 10_000,
      interval: "fast",
      data: withCpu(i),
    }]);
  const scrape = async () => {
    const body = await f.exposition.render({ datasets: false });
    return { body, text: text(body) };
  };
  store(1);
  const r1 = await scrape();
  store(2);
  const r2 = await scrape();
  assert.notEqual(r2.body.samples.buffer, r1.body.samples.buffer);
  r1.body.sent();
  store(3);
  const r3 = await scrape();
  assert.equal(
    r3.body.samples.buffer,
    r1.body.samples.buffer,
    "the sent one is joined into again",
  );
  assert.ok(r3.text.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.03\n'));
  assert.equal(text(r2.body), r2.text, "r2 is not sent yet: untouched");
  // Neither r2 nor r3 is sent: the next change needs a buffer of its own.
  store(4);
  const r4 = await scrape();
  for (const r of [r2, r3]) {
    assert.notEqual(r4.body.samples.buffer, r.body.samples.buffer);
    assert.equal(text(r.body), r.text);
  }
  assert.ok(r4.text.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.04\n'));
  r2.body.sent();
  r2.body.sent(); // twice is once
  store(5);
  const r5 = await scrape();
  assert.equal(r5.body.samples.buffer, r2.body.samples.buffer);
  assert.equal(text(r4.body), r4.text, "the current one is never reused");
  assert.equal(text(r3.body), r3.text);
});
