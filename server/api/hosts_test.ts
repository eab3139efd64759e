import assert from "node:assert/strict";
import { createHost, markOnline } from "../store/hosts.ts";
import { recordSamples } from "../store/sample_store.ts";
import { sampleFixture } from "../testing/samples.ts";
import { createTestApp } from "../testing/test_app.ts";

const NOW = Date.UTC(2026, 3, 21, 12);
const fast = await sampleFixture("fast");
const medium = await sampleFixture("medium");
const slow = await sampleFixture("slow");

async function setup() {
  const t = await createTestApp();
  const database = t.deps.database;
  const { host } = await createHost(database, "pve-01", NOW);
  return { t, database, host };
}

Deno.test("GET /api/hosts/:name returns host info and latest samples", async () => {
  const { t, database, host } = await setup();
  await using _ = t;
  await markOnline(database, host.id, "0.1.0", NOW + 9000);
  await recordSamples(database, [
    {
      hostId: host.id,
      interval: "fast",
      collectedAtMs: NOW - 10_000,
      data: { ...fast, old: true },
    },
    { hostId: host.id, interval: "fast", collectedAtMs: NOW, data: fast },
    {
      hostId: host.id,
      interval: "slow",
      collectedAtMs: NOW - 60_000,
      data: slow,
    },
  ], NOW + 9000);
  const res = await t.app.request("/api/hosts/pve-01");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    name: "pve-01",
    status: "online",
    agent_version: "0.1.0",
    last_seen_at: "2026-04-21T12:00:09.000Z",
    samples: {
      fast: { collected_at: "2026-04-21T12:00:00.000Z", payload: fast },
      slow: { collected_at: "2026-04-21T11:59:00.000Z", payload: slow },
    },
  });
});

Deno.test("GET /api/hosts/:name of a host without samples has empty samples and nulls", async () => {
  const { t } = await setup();
  await using _ = t;
  const res = await t.app.request("/api/hosts/pve-01");
  assert.deepEqual(await res.json(), {
    name: "pve-01",
    status: "offline",
    agent_version: null,
    last_seen_at: null,
    samples: {},
  });
});

Deno.test("GET /api/hosts/:name returns 404 host_not_found for an unknown or impossible name", async (t) => {
  const { t: app } = await setup();
  await using _ = app;
  for (
    const path of ["/api/hosts/nope", "/api/hosts/a%20b", "/api/hosts/..%2Fetc"]
  ) {
    await t.step(path, async () => {
      const res = await app.app.request(path);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { error: "host_not_found" });
    });
  }
});

Deno.test("GET /api/hosts lists every host with status and a summary of its latest fast sample", async () => {
  const { t, database, host } = await setup();
  await using _ = t;
  await createHost(database, "pve-02", NOW);
  await recordSamples(database, [
    { hostId: host.id, interval: "fast", collectedAtMs: NOW, data: fast },
    {
      hostId: host.id,
      interval: "medium",
      collectedAtMs: NOW + 1,
      data: medium,
    },
  ], NOW);
  const res = await t.app.request("/api/hosts");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.hosts.map((h: { name: string }) => h.name), [
    "pve-01",
    "pve-02",
  ]);
  assert.deepEqual(body.hosts[0], {
    name: "pve-01",
    status: "offline",
    agent_version: null,
    last_seen_at: "2026-04-21T12:00:00.000Z",
    summary: {
      collected_at: "2026-04-21T12:00:00.000Z",
      cpu_percent: 12.4,
      mem_used_bytes: 67338162176 - 31876505600,
      mem_total_bytes: 67338162176,
      pools: [
        { name: "rpool", health: "ONLINE", capacity_percent: 21 },
        { name: "tank", health: "DEGRADED", capacity_percent: 62 },
      ],
      pools_healthy: false,
      guests_running: 3,
      guests_total: 4,
    },
  });
  assert.equal(body.hosts[1].summary, null);
});

Deno.test("GET /api/hosts with no hosts is an empty list", async () => {
  await using t = await createTestApp();
  assert.deepEqual(await (await t.app.request("/api/hosts")).json(), {
    hosts: [],
  });
});
