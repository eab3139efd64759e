import assert from "node:assert/strict";
import type { Hono } from "hono";
import { createHistoryApi } from "../api/history.ts";
import { createAuth } from "../auth/auth.tsx";
import { fakeClock } from "@proxmon/shared/fake_clock";
import type { Database } from "../store/client.ts";
import { createEventBus, type EventBus } from "../ingest/event_bus.ts";
import { createHost, markOnline } from "../store/hosts.ts";
import { recordSamples } from "../store/sample_store.ts";
import { hashPassword } from "../auth/password.ts";
import { sampleFixture } from "../testing/samples.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { createDashboard } from "./dashboard.tsx";
import { zfsVersionText } from "./views/host_sections.tsx";

const NOW = Date.UTC(2026, 3, 21, 12);
const fast = await sampleFixture("fast");
const medium = await sampleFixture("medium");
const slow = await sampleFixture("slow");

interface Harness {
  app: Hono;
  database: Database;
  bus: EventBus;
  clock: ReturnType<typeof fakeClock>;
}

/**
 * A dashboard over a real database holding two hosts: "pve-degraded" sends
 * the fixtures as they are (pool tank DEGRADED); "pve-healthy" the same with
 * every pool ONLINE.
 */
async function withDashboard(
  fn: (h: Harness) => Promise<void>,
  passwordHash: string | null = null,
) {
  await using tmp = await openTempDatabase();
  const database = tmp.database;
  const clock = fakeClock(NOW);
  const bus = createEventBus();
  const healthy = structuredClone(fast);
  for (const p of healthy.zfs_pools.pools) {
    p.health = "ONLINE";
    p.degraded_vdev_count = 0;
  }
  for (
    const [name, data] of [["pve-healthy", healthy], [
      "pve-degraded",
      fast,
    ]] as const
  ) {
    const { host } = await createHost(database, name, NOW);
    await markOnline(database, host.id, "0.1.0", NOW - 3000);
    await recordSamples(database, [
      { hostId: host.id, interval: "fast", collectedAtMs: NOW - 3000, data },
      {
        hostId: host.id,
        interval: "medium",
        collectedAtMs: NOW - 30_000,
        data: medium,
      },
      {
        hostId: host.id,
        interval: "slow",
        collectedAtMs: NOW - 600_000,
        data: slow,
      },
    ], NOW - 3000);
  }
  const auth = createAuth({
    database,
    clock,
    config: { dashboardPasswordHash: passwordHash, sessionSecret: null },
    warn: () => {},
  });
  const app = createDashboard({
    database,
    clock,
    bus,
    auth,
    keepAliveMs: 1000,
  });
  app.route("/api/hosts", createHistoryApi({ database, clock }));
  await fn({ app, database, bus, clock });
}

Deno.test("GET / lists every host, the degraded one first and highlighted", async () => {
  await withDashboard(async ({ app }) => {
    const res = await app.request("/");
    assert.equal(res.status, 200);
    assert.match(
      res.headers.get("content-security-policy") ?? "",
      /default-src 'self'/,
    );
    const html = await res.text();
    assert.match(html, /^<!DOCTYPE html><html lang="en">/);
    assert.match(html, /No password set/);
    const rows = [...html.matchAll(/<tr id="host-([^"]+)" class="host (\w+)"/g)]
      .map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(rows, ["pve-degraded critical", "pve-healthy ok"]);
    assert.match(html, /pool tank is DEGRADED/);
    assert.match(html, /3 \/ 4 running/);
    assert.match(html, /2 hosts/);
    assert.match(html, /just now|3 s ago/);
  });
});

Deno.test("GET /hosts/:name shows pools, datasets, storages, guests with IPs and system info", async () => {
  await withDashboard(async ({ app }) => {
    const res = await app.request("/hosts/pve-degraded");
    assert.equal(res.status, 200);
    const html = await res.text();
    for (
      const text of [
        "192.168.1.20",
        "fd00:1:2:3::20",
        "10.10.0.2",
        "home-assistant",
        "tank/media",
        "local-zfs",
        "2.2.6-pve1",
        "6.8.12-5-pve",
        'data-metric="pools"',
        "/assets/charts.js",
      ]
    ) assert.ok(html.includes(text), `missing ${text}`);
    assert.match(html, /<span class="badge critical">DEGRADED<\/span>/);
    assert.match(html, /1 of 3/);
    // enp3s0 only: the same bytes cross vmbr0 and must not count twice.
    assert.match(html, /178 KiB\/s \/ 92\.8 KiB\/s/);
    assert.equal((await app.request("/hosts/nope")).status, 404);
  });
});

Deno.test("GET /fragments/overview renders only the asked-for rows and the fleet counts", async () => {
  await withDashboard(async ({ app }) => {
    const html =
      await (await app.request("/fragments/overview?host=pve-healthy")).text();
    assert.match(html, /id="fleet-summary"/);
    assert.match(html, /<span>2 hosts<\/span>/);
    assert.match(html, /id="host-pve-healthy"/);
    assert.doesNotMatch(html, /id="host-pve-degraded"/);
    assert.doesNotMatch(html, /<html/);
  });
});

Deno.test("GET /fragments/hosts/:name renders the live sections without the page around them", async () => {
  await withDashboard(async ({ app }) => {
    const res = await app.request("/fragments/hosts/pve-degraded");
    const html = await res.text();
    for (
      const id of [
        "host-header",
        "host-now",
        "host-pools",
        "guest-rows",
        "host-system",
      ]
    ) {
      assert.match(html, new RegExp(`id="${id}"[^>]*data-live`));
    }
    assert.doesNotMatch(html, /<html|guest-filter|data-metric/);
    assert.equal((await app.request("/fragments/hosts/nope")).status, 404);
  });
});

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pattern: RegExp,
  seen = { text: "" },
): Promise<string> {
  const decoder = new TextDecoder();
  while (!pattern.test(seen.text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${pattern}: ${seen.text}`);
    seen.text += decoder.decode(value);
  }
  return seen.text;
}

Deno.test("GET /events streams bus events for the asked-for host, with keep-alives", async () => {
  await withDashboard(async ({ app, bus, clock }) => {
    const controller = new AbortController();
    const res = await app.request("/events?host=pve-healthy", {
      signal: controller.signal,
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, /event: hello/, seen);
    bus.publish({
      type: "sample",
      host: "pve-degraded",
      interval: "fast",
      collected_at: "x",
    });
    bus.publish({
      type: "sample",
      host: "pve-healthy",
      interval: "fast",
      collected_at: "2026-04-21T12:00:00.000Z",
    });
    bus.publish({ type: "status", host: "pve-healthy", status: "offline" });
    await readUntil(reader, /event: status/, seen);
    assert.match(
      seen.text,
      /event: sample\ndata: {"type":"sample","host":"pve-healthy"/,
    );
    assert.doesNotMatch(seen.text, /pve-degraded/);
    // The stream arms its keep-alive timer only once it is idle again.
    while (clock.pending() === 0) await new Promise((r) => setTimeout(r, 1));
    await clock.advance(1000);
    await readUntil(reader, /: keep-alive/, seen);
    await reader.cancel();
    controller.abort();
  });
});

Deno.test("GET /assets serves the dashboard files and uPlot from its npm package", async () => {
  await withDashboard(async ({ app }) => {
    const uplot = await app.request("/assets/uplot.js");
    assert.equal(uplot.status, 200);
    assert.match(uplot.headers.get("content-type") ?? "", /javascript/);
    assert.match(
      await uplot.text(),
      /^\/\*! https:\/\/github.com\/leeoniya\/uPlot.*\nvar uPlot=function\(\)/,
    );
    const css = await app.request("/assets/uplot.css");
    assert.match(await css.text(), /\.uplot/);
    const app_css = await app.request("/assets/app.css");
    const etag = app_css.headers.get("etag") ?? "";
    assert.match(await app_css.text(), /prefers-color-scheme: dark/);
    const again = await app.request("/assets/app.css", {
      headers: { "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    assert.equal((await app.request("/assets/..%2Fdashboard.tsx")).status, 404);
    assert.equal((await app.request("/assets/constructor")).status, 404);
  });
});

Deno.test("GET /api/hosts/:name/history validates its query", async () => {
  await withDashboard(async ({ app }) => {
    const ok = await app.request(
      "/api/hosts/pve-healthy/history?metric=cpu&range=1h&points=10",
    );
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.equal(body.host, "pve-healthy");
    assert.equal(body.to, NOW);
    assert.equal(body.from, NOW - 3_600_000);
    assert.deepEqual(body.data, [[NOW - 3000], [12.4]]);
    const pools = await (await app.request(
      `/api/hosts/pve-degraded/history?metric=pools&from=${NOW - 60_000}&to=${
        new Date(NOW).toISOString()
      }`,
    )).json();
    assert.deepEqual(pools.series.map((s: { key: string }) => s.key), [
      "rpool",
      "tank",
    ]);
    assert.deepEqual(pools.data.slice(1), [[21], [62]]);
    const bad = async (query: string) => {
      const res = await app.request(`/api/hosts/pve-healthy/history?${query}`);
      return [res.status, (await res.json()).error];
    };
    assert.deepEqual(await bad("metric=bogus"), [400, "invalid_query"]);
    assert.deepEqual(await bad("metric=cpu&points=1"), [400, "invalid_query"]);
    assert.deepEqual(await bad("metric=cpu&range=2y"), [400, "invalid_query"]);
    assert.deepEqual(await bad("metric=guest_cpu&range=7d"), [
      400,
      "invalid_query",
    ]);
    assert.deepEqual(await bad("metric=cpu&stat=median"), [
      400,
      "invalid_query",
    ]);
    assert.deepEqual(await bad("metric=cpu&from=yesterday"), [
      400,
      "invalid_query",
    ]);
    assert.deepEqual(await bad(`metric=cpu&from=${NOW}&to=${NOW - 1}`), [
      400,
      "invalid_query",
    ]);
    assert.deepEqual(await bad(`metric=cpu&from=0&to=${NOW}`), [
      400,
      "invalid_query",
    ]);
    const missing = await app.request("/api/hosts/nope/history?metric=cpu");
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "host_not_found" });
  });
});

Deno.test("with a password set, pages redirect and fragments and events answer 401, assets stay public", async () => {
  const hash = await hashPassword("pw", { n: 1024, r: 8, p: 1 });
  await withDashboard(async ({ app }) => {
    assert.equal((await app.request("/")).status, 302);
    assert.equal((await app.request("/hosts/pve-healthy")).status, 302);
    assert.equal((await app.request("/fragments/overview")).status, 401);
    assert.equal(
      (await app.request("/fragments/hosts/pve-healthy")).status,
      401,
    );
    assert.equal((await app.request("/events")).status, 401);
    assert.equal((await app.request("/assets/app.css")).status, 200);
  }, hash);
});

Deno.test("zfsVersionText() flags a loaded ZFS module older than the userland", () => {
  assert.equal(zfsVersionText("2.2.6-pve1", "2.2.6-pve1"), "2.2.6-pve1");
  assert.equal(zfsVersionText("2.3.4-pve1", undefined), "2.3.4-pve1");
  assert.equal(
    zfsVersionText("2.1.2-pve1", "2.0.6-pve1"),
    "2.1.2-pve1 (loaded module 2.0.6-pve1: reboot pending)",
  );
  assert.equal(zfsVersionText(null, "2.0.6-pve1"), "–");
});

Deno.test("GET /hosts/:name splits memory into processes, ARC and free, and shows ARC, pressure and each guest's disk", async () => {
  await withDashboard(async ({ app, database }) => {
    const { host } = await createHost(database, "pve-zfs", NOW);
    await markOnline(database, host.id, "0.1.0", NOW - 2000);
    const f = structuredClone(fast);
    f.host.mem_total_bytes = 64 * 2 ** 30;
    f.host.mem_available_bytes = 6 * 2 ** 30;
    f.host.arc = {
      size_bytes: 32 * 2 ** 30,
      c_max_bytes: 32 * 2 ** 30,
      hits: 935,
      misses: 65,
      hit_ratio: 0.935,
    };
    f.host.psi = {
      cpu: {
        some_avg10: 1.5,
        some_avg60: 1,
        full_avg10: null,
        full_avg60: null,
      },
      memory: { some_avg10: 0, some_avg60: 0, full_avg10: 0, full_avg60: 0 },
      io: { some_avg10: 2.25, some_avg60: 1, full_avg10: 1, full_avg60: 1 },
    };
    const m = structuredClone(medium);
    const vm = m.vms_detail.vms.find((g) => g.type === "qemu")!;
    vm.filesystems = [
      {
        mountpoint: "/",
        type: "ext4",
        total_bytes: 32 * 2 ** 30,
        used_bytes: 8 * 2 ** 30,
      },
    ];
    await recordSamples(database, [
      { hostId: host.id, interval: "fast", collectedAtMs: NOW - 2000, data: f },
      {
        hostId: host.id,
        interval: "medium",
        collectedAtMs: NOW - 2000,
        data: m,
      },
    ], NOW - 2000);
    const html = await (await app.request("/hosts/pve-zfs")).text();
    // 64 GiB: 26 used by processes, 32 the ARC, 6 free
    for (
      const text of [
        "processes 26.0 GiB · ARC 32.0 GiB · free 6.00 GiB",
        "32.0 GiB of 32.0 GiB max, hit ratio 94 %",
        "<dt>Pressure cpu / mem / io (10 s)</dt><dd>1.5 % / 0.0 % / 2.3 %</dd>",
        `Disk used in guest ${vm.vmid}`,
        "8.00 GiB / 32.0 GiB",
      ]
    ) assert.ok(html.includes(text), `missing ${text}`);
  });
});
