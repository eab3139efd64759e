import assert from "node:assert/strict";
import { createApiToken } from "../auth/api_tokens.ts";
import { createHost, listHosts } from "../store/hosts.ts";
import { createTestApp } from "../testing/test_app.ts";
import { sampleFixture } from "../testing/samples.ts";

async function storedFleet() {
  const t = await createTestApp();
  const { host: { id } } = await createHost(
    t.deps.database,
    "pve-01",
    Date.now(),
  );
  const at = {
    hostId: id,
    hostName: "pve-01",
    collectedAtMs: Date.UTC(2026, 0, 1, 12),
  };
  await t.deps.writer.submit({
    ...at,
    interval: "fast",
    data: await sampleFixture("fast"),
  });
  await t.deps.writer.submit({
    ...at,
    interval: "medium",
    data: await sampleFixture("medium"),
  });
  await t.deps.writer.submit({
    ...at,
    interval: "slow",
    data: await sampleFixture("slow"),
  });
  return t;
}

Deno.test("GET /metrics without a token is refused with 401 and says how to authenticate", async () => {
  await using t = await storedFleet();
  const res = await t.app.request("/metrics");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="proxmon"');
  assert.ok((await res.text()).includes("METRICS_PUBLIC=1"));
  const wrong = await t.app.request("/metrics", {
    headers: { Authorization: "Bearer not-a-token" },
  });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
});

Deno.test("GET /metrics with an API token serves the latest state in the text format", async () => {
  await using t = await storedFleet();
  const token = await createApiToken(t.deps.database, "prometheus", Date.now());
  const res = await t.app.request("/metrics", {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  assert.match(
    res.headers.get("content-type")!,
    /^text\/plain; version=0\.0\.4/,
  );
  const text = await res.text();
  assert.ok(text.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.124\n'));
  assert.ok(text.includes("# TYPE proxmon_zfs_pool_errors_total counter\n"));
  assert.ok(
    text.includes('proxmon_ingest_samples_total{outcome="stored"} 3\n'),
  );
  assert(!text.includes("proxmon_zfs_dataset_"), "datasets only on request");
});

Deno.test("GET /metrics counts firing alerts by rule and severity, 0 for the rules with none", async () => {
  await using t = await createTestApp();
  const { host: { id } } = await createHost(
    t.deps.database,
    "pve-01",
    Date.now(),
  );
  const fast = await sampleFixture("fast");
  fast.zfs_pools.pools[0].health = "DEGRADED";
  await t.deps.writer.submit({
    hostId: id,
    hostName: "pve-01",
    collectedAtMs: Date.now(),
    interval: "fast",
    data: fast,
  });
  await t.deps.alerts.flush();
  const token = await createApiToken(t.deps.database, "prometheus", Date.now());
  const text = await (await t.app.request("/metrics", {
    headers: { Authorization: `Bearer ${token}` },
  })).text();
  const unhealthy = fast.zfs_pools.pools.filter((p) => p.health !== "ONLINE");
  assert.ok(unhealthy.length >= 1);
  assert.ok(
    text.includes(
      `proxmon_alerts_firing{rule="pool_unhealthy",severity="crit"} ${unhealthy.length}\n`,
    ),
    text.split("\n").filter((l) => l.includes("alerts_firing")).join("\n"),
  );
  assert.ok(
    text.includes('proxmon_alerts_firing{rule="host_cpu",severity="warn"} 0\n'),
  );
});

Deno.test("GET /metrics shows a sample stored after a scrape in the next scrape, with the same bytes otherwise", async () => {
  await using t = await storedFleet();
  const token = await createApiToken(t.deps.database, "prometheus", Date.now());
  const scrape = async () => {
    const res = await t.app.request("/metrics", {
      headers: { Authorization: `Bearer ${token}` },
    });
    const body = await res.text();
    assert.equal(
      Number(res.headers.get("content-length")),
      new TextEncoder().encode(body).length,
    );
    return body;
  };
  const first = await scrape();
  assert.equal(await scrape(), first, "nothing changed, nothing differs");
  const { id } = (await listHosts(t.deps.database))[0];
  const fast = await sampleFixture("fast");
  fast.host.cpu_percent = 77;
  await t.deps.writer.submit({
    hostId: id,
    hostName: "pve-01",
    collectedAtMs: Date.UTC(2026, 0, 1, 12, 0, 10),
    interval: "fast",
    data: fast,
  });
  const next = await scrape();
  assert.ok(next.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.77\n'));
  assert.ok(!next.includes('proxmon_host_cpu_ratio{host="pve-01"} 0.124\n'));
  assert.ok(
    next.includes('proxmon_ingest_samples_total{outcome="stored"} 4\n'),
    "own counters are fresh too",
  );
});
