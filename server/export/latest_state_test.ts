import assert from "node:assert/strict";
import { createHost, removeHost } from "../store/hosts.ts";
import { recordSamples } from "../store/sample_store.ts";
import { sampleFixture } from "../testing/samples.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { createLatestCache } from "./latest_state.ts";

const fast = await sampleFixture("fast");
const T0 = Date.UTC(2026, 0, 1, 12);
const withCpu = (cpu: number) => ({
  ...fast,
  host: { ...fast.host, cpu_percent: cpu },
});

Deno.test("createLatestCache() starts from the store, then takes newer samples and ignores replays of older ones", async () => {
  await using t = await openTempDatabase();
  const { host } = await createHost(t.database, "pve-01", T0);
  await recordSamples(t.database, [
    { hostId: host.id, interval: "fast", collectedAtMs: T0, data: withCpu(10) },
  ], T0);
  const cache = createLatestCache(t.database);
  const cpu = async () =>
    (await cache.fleet())[0].fast?.payload.host.cpu_percent;
  assert.equal(await cpu(), 10);
  cache.observe([{
    hostId: host.id,
    interval: "fast",
    collectedAtMs: T0 + 10_000,
    data: withCpu(20),
  }]);
  assert.equal(await cpu(), 20);
  cache.observe([{
    hostId: host.id,
    interval: "fast",
    collectedAtMs: T0 - 60_000,
    data: withCpu(99),
  }]);
  assert.equal(
    await cpu(),
    20,
    "an agent's replay of an old sample is not the latest",
  );
  assert.equal((await cache.fleet())[0].medium, null);
});

Deno.test("createLatestCache() lists every registered host and forgets removed ones", async () => {
  await using t = await openTempDatabase();
  const a = (await createHost(t.database, "pve-01", T0)).host;
  await createHost(t.database, "pve-02", T0);
  const cache = createLatestCache(t.database);
  cache.observe([{
    hostId: a.id,
    interval: "fast",
    collectedAtMs: T0,
    data: withCpu(5),
  }]);
  const fleet = await cache.fleet();
  assert.deepEqual(fleet.map((s) => [s.host.name, s.fast !== null]), [[
    "pve-01",
    true,
  ], ["pve-02", false]]);
  await removeHost(t.database, "pve-01");
  assert.deepEqual((await cache.fleet()).map((s) => s.host.name), ["pve-02"]);
});
