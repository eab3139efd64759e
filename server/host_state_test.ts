import assert from "node:assert/strict";
import type { FastPayload, HostMetrics, ZfsPool } from "@proxmon/shared";
import type { HostRow } from "./store/schema.ts";
import { sampleFixture } from "./testing/samples.ts";
import { summarizeHost } from "./api/hosts.ts";
import { extractPoints } from "./store/series_catalog.ts";
import { buildHostOverview, type HostSnapshot } from "./web/host_overview.ts";
import { HostNow } from "./web/views/host_sections.tsx";
import {
  isPhysicalIface,
  memoryBreakdown,
  memUsedBytes,
  nicRates,
  poolProblems,
  poolsHealthy,
} from "./host_state.ts";

const DAY = 86_400_000;
const fast = await sampleFixture("fast");
// rpool's last scrub ended 10 days before this, tank's just under 17.
const NOW = (1776592852 * 1000) + 10 * DAY;
const GiB = 1024 ** 3;

const withHost = (over: Partial<HostMetrics>): FastPayload => {
  const p = structuredClone(fast);
  Object.assign(p.host, over);
  return p;
};

/** The host series a fast sample adds to the history charts. */
function chartPoints(payload: FastPayload, now: number) {
  const points = extractPoints("fast", payload, now, null);
  const host = (metric: string) =>
    points.find((p) => p.key.kind === "host" && p.key.metric === metric)
      ?.value ?? null;
  return { mem_used: host("mem_used"), net_rx: host("net_rx") };
}

/** What each view of the host says, side by side. */
function views(payload: FastPayload, now = NOW) {
  const host: HostRow = {
    id: 1,
    name: "pve-01",
    tokenHash: "",
    status: "online",
    agentVersion: "0.1.0",
    lastSeenAt: now - 5000,
    createdAt: 0,
  };
  const snap: HostSnapshot = {
    host,
    fast: { collectedAtMs: now - 5000, payload },
    medium: null,
    slow: null,
  };
  const overview = buildHostOverview(snap, now);
  return {
    api: summarizeHost({
      hostId: 1,
      interval: "fast",
      collectedAtMs: now - 5000,
      payload,
    }, now),
    overview,
    chart: chartPoints(payload, now),
    page: String(HostNow({ snap, overview, guests: [], now })),
  };
}

Deno.test("isPhysicalIface() keeps NICs and drops bridges, guest ends, bonds and VLANs", async (t) => {
  for (const name of ["eno1", "enp3s0", "eth0", "ens18", "nic0"]) {
    await t.step(
      `${name} counts`,
      () => assert.equal(isPhysicalIface(name), true),
    );
  }
  for (
    const name of [
      "lo",
      "vmbr0",
      "tap100i0",
      "veth101i0",
      "fwbr100i0",
      "fwpr100p0",
      "fwln100i0",
      "bond0",
      "eno1.20",
    ]
  ) {
    await t.step(
      `${name} does not`,
      () => assert.equal(isPhysicalIface(name), false),
    );
  }
});

/** 64 GiB, 8 GiB available, 32 GiB of it held by the ARC: 24 GiB used. */
const ARC_HALF_OF_64_GIB = {
  mem_total_bytes: 64 * GiB,
  mem_available_bytes: 8 * GiB,
  arc: {
    size_bytes: 32 * GiB,
    c_max_bytes: 32 * GiB,
    hits: 90,
    misses: 10,
    hit_ratio: 0.9,
  },
};

Deno.test("used memory leaves out the ARC, never goes below 0, and is null when unknown", () => {
  const h = withHost(ARC_HALF_OF_64_GIB).host;
  assert.deepEqual(memoryBreakdown(h), {
    used: 24 * GiB,
    arc: 32 * GiB,
    free: 8 * GiB,
  });
  // An ARC reading taken a moment after meminfo can exceed what is left.
  const racing = { ...h, arc: { ...h.arc!, size_bytes: 60 * GiB } };
  assert.equal(memUsedBytes(racing), 0);
  assert.equal(memUsedBytes({ ...h, arc: null }), 56 * GiB);
  assert.equal(memUsedBytes({ ...h, mem_available_bytes: null }), null);
});

Deno.test("the API, the overview, the history chart and the host page agree on used memory, with the ARC left out", () => {
  const payload = withHost(ARC_HALF_OF_64_GIB);
  const v = views(payload);
  assert.equal(v.api.mem_used_bytes, 24 * GiB);
  assert.equal(v.overview.memUsed, 24 * GiB);
  assert.equal(v.chart.mem_used, 24 * GiB);
  assert.match(v.page, /24\.0 GiB \/ 64\.0 GiB/);
});

Deno.test("a host without NIC figures has no network total (null, never 0) on the host page, as in the chart", () => {
  for (
    const net of [[], [{
      iface: "vmbr0",
      rx_bytes_per_s: 5,
      tx_bytes_per_s: 5,
    }], [
      { iface: "eno1", rx_bytes_per_s: null, tx_bytes_per_s: null },
    ]]
  ) {
    const payload = withHost({ net });
    assert.deepEqual(nicRates(payload.host), { rx: null, tx: null });
    const v = views(payload);
    assert.equal(v.chart.net_rx, null);
    assert.match(
      v.page,
      /Network in \/ out \(NICs\)<\/dt><dd>– \/ –<\/dd>/,
      JSON.stringify(net),
    );
  }
  const v = views(
    withHost({
      net: [{ iface: "eno1", rx_bytes_per_s: 0, tx_bytes_per_s: 2048 }],
    }),
  );
  assert.equal(v.chart.net_rx, 0);
  assert.match(v.page, /\(NICs\)<\/dt><dd>0 B\/s \/ 2\.00 KiB\/s<\/dd>/);
});

Deno.test("pools_healthy in the API is false for exactly what the dashboard flags: data errors and overdue scrubs included", async (t) => {
  const online = (edit: (p: ZfsPool) => void): FastPayload => {
    const p = structuredClone(fast);
    for (const pool of p.zfs_pools.pools) {
      pool.health = "ONLINE";
      pool.degraded_vdev_count = 0;
      edit(pool);
    }
    return p;
  };
  const cases: [string, FastPayload, boolean][] = [
    ["all ONLINE, scrubbed lately", online(() => {}), true],
    [
      "ONLINE with data errors",
      online((p) => {
        if (p.name === "rpool") p.error_count = 3;
      }),
      false,
    ],
    [
      "ONLINE, last scrub 40 days ago",
      online((p) => {
        p.last_scrub_end = Math.floor((NOW - 40 * DAY) / 1000);
      }),
      false,
    ],
    [
      "ONLINE, never scrubbed",
      online((p) => {
        p.last_scrub_end = null;
      }),
      false,
    ],
    ["the fixture: tank DEGRADED", fast, false],
  ];
  for (const [name, payload, healthy] of cases) {
    await t.step(name, () => {
      const v = views(payload);
      assert.equal(v.api.pools_healthy, healthy);
      assert.equal(poolsHealthy(payload.zfs_pools.pools, NOW), healthy);
      const poolFlagged = v.overview.problems.some((p) =>
        p.text.startsWith("pool ")
      );
      assert.equal(poolFlagged, !healthy, "the dashboard flags the same");
    });
  }
});

Deno.test("a pool without a reported health is UNKNOWN and a problem, not silently healthy", () => {
  const pool = { ...fast.zfs_pools.pools[0], health: null };
  assert.deepEqual(poolProblems(pool, NOW)[0], {
    severity: "critical",
    text: "pool rpool is UNKNOWN",
  });
});

Deno.test("guests running agree between the API and the overview, templates left out", () => {
  const v = views(fast);
  assert.equal(v.api.guests_running, v.overview.guestsRunning);
  assert.equal(v.api.guests_total, v.overview.guestsTotal);
  const counted = fast.vms_runtime.vms.filter((g) => !g.template);
  assert.equal(v.api.guests_total, counted.length);
  assert.equal(
    v.api.guests_running,
    counted.filter((g) => g.status === "running").length,
  );
});
