import assert from "node:assert/strict";
import type { FastPayload, SlowPayload } from "@proxmon/shared";
import type { HostRow } from "../store/schema.ts";
import { sampleFixture } from "../testing/samples.ts";
import {
  buildHostOverview,
  type HostSnapshot,
  sortHosts,
} from "./host_overview.ts";
import { mergeGuests } from "./guest_list.ts";

const DAY = 86_400_000;
const fast = await sampleFixture("fast");
const slow = await sampleFixture("slow");
// rpool's last scrub ended 10 days before this, tank's just under 17.
const NOW = (1776592852 * 1000) + 10 * DAY;

function snapshot(
  name: string,
  edit: (p: FastPayload) => void = () => {},
  status: "online" | "offline" = "online",
): HostSnapshot {
  const payload: FastPayload = structuredClone(fast);
  edit(payload);
  const host: HostRow = {
    id: 1,
    name,
    tokenHash: "",
    status,
    agentVersion: "0.1.0",
    lastSeenAt: NOW - 5000,
    createdAt: 0,
  };
  return {
    host,
    fast: { collectedAtMs: NOW - 5000, payload },
    medium: null,
    slow: { collectedAtMs: NOW - DAY, payload: slow as SlowPayload },
  };
}

const healthy = (p: FastPayload) => {
  for (const pool of p.zfs_pools.pools) {
    pool.health = "ONLINE";
    pool.degraded_vdev_count = 0;
  }
};

type Edit<T> = (p: FastPayload, value: T) => void;

/** Host "a", healthy but for `change`. */
const healthyBut = (change: (p: FastPayload) => void) =>
  snapshot("a", (p) => {
    healthy(p);
    change(p);
  });

const problemTexts = (s: HostSnapshot, now = NOW) =>
  buildHostOverview(s, now).problems.map((p) => `${p.severity}: ${p.text}`);

Deno.test("buildHostOverview() sums up the fixture host", () => {
  const o = buildHostOverview(snapshot("pve-01"), NOW);
  assert.equal(o.online, true);
  assert.equal(o.cpuPercent, 12.4);
  assert.equal(o.memUsed, 67338162176 - 31876505600);
  assert.deepEqual(o.load, [0.82, 0.71, 0.65]);
  assert.deepEqual(o.worstPool, { name: "tank", health: "DEGRADED" });
  assert.deepEqual(o.fullestPool, { name: "tank", capacityPercent: 62 });
  // The inactive NFS storage reports no usage and is left out.
  assert.deepEqual(o.fullestStorage, {
    name: "local-zfs",
    usedFraction: 0.134364,
  });
  // The template does not count as a guest.
  assert.equal(o.guestsRunning, 3);
  assert.equal(o.guestsTotal, 4);
  assert.equal(o.pendingUpdates, 12);
  assert.deepEqual(problemTexts(snapshot("pve-01")), [
    "critical: pool tank is DEGRADED",
  ]);
});

Deno.test("buildHostOverview() finds no problem on a healthy host", () => {
  assert.deepEqual(problemTexts(snapshot("pve-01", healthy)), []);
});

Deno.test("buildHostOverview() flags each problem the overview highlights", async (t) => {
  await t.step("offline host", () => {
    assert.deepEqual(problemTexts(snapshot("a", healthy, "offline")), [
      "critical: host is offline",
    ]);
  });
  // [what, how the value is set, the value just under, the threshold, the problem]
  const thresholds: [string, Edit<number>, number, number, string][] = [
    [
      "pool at 80 % but not at 79 %",
      (p, cap) => p.zfs_pools.pools[0].capacity_percent = cap,
      79,
      80,
      "warning: pool rpool is 80 % full",
    ],
    [
      "storage at 90 %",
      (p, fraction) => p.storage.storages[0].used_fraction = fraction,
      0.899,
      0.9,
      "warning: storage local is 90 % full",
    ],
  ];
  for (const [what, set, under, at, problem] of thresholds) {
    await t.step(what, () => {
      const problemsAt = (v: number) =>
        problemTexts(healthyBut((p) => set(p, v)));
      assert.deepEqual(problemsAt(under), []);
      assert.deepEqual(problemsAt(at), [problem]);
    });
  }
  await t.step("last scrub more than 35 days ago, or never", () => {
    assert.deepEqual(problemTexts(snapshot("a", healthy), NOW + 26 * DAY), [
      "warning: pool rpool last scrubbed 36 d ago",
      "warning: pool tank last scrubbed 42 d ago",
    ]);
    const never = healthyBut((p) => {
      p.zfs_pools.pools[1].last_scrub_end = null;
      p.zfs_pools.pools[1].scan = null;
    });
    assert.deepEqual(problemTexts(never), [
      "warning: pool tank was never scrubbed",
    ]);
  });
  await t.step("a running scrub clears an old-scrub warning", () => {
    const scrubbing = healthyBut((p) => {
      for (const pool of p.zfs_pools.pools) {
        pool.scan = {
          function: "SCRUB",
          state: "SCANNING",
          start_unix: 0,
          end_unix: null,
          progress_percent: 40,
        };
      }
    });
    assert.deepEqual(problemTexts(scrubbing, NOW + 60 * DAY), []);
  });
  await t.step("data errors on an ONLINE pool", () => {
    const errors = healthyBut((p) => p.zfs_pools.pools[0].error_count = 3);
    assert.deepEqual(problemTexts(errors), [
      "critical: pool rpool has 3 data errors",
    ]);
  });
});

Deno.test("buildHostOverview() copes with a host that never sent a sample", () => {
  const s = snapshot("new", healthy, "offline");
  const o = buildHostOverview({ ...s, fast: null, slow: null }, NOW);
  assert.equal(o.cpuPercent, null);
  assert.equal(o.worstPool, null);
  assert.equal(o.guestsTotal, 0);
  assert.equal(o.pendingUpdates, null);
  assert.deepEqual(o.problems.map((p) => p.text), ["host is offline"]);
});

Deno.test("sortHosts() puts critical hosts first, then warnings, then by name", () => {
  const full = (p: FastPayload) => {
    healthy(p);
    p.zfs_pools.pools[0].capacity_percent = 95;
  };
  const hosts = [
    snapshot("b-ok", healthy),
    snapshot("a-ok", healthy),
    snapshot("z-warn", full),
    snapshot("y-degraded"),
    snapshot("c-offline", healthy, "offline"),
  ].map((s) => buildHostOverview(s, NOW));
  assert.deepEqual(sortHosts(hosts).map((h) => h.name), [
    "c-offline",
    "y-degraded",
    "z-warn",
    "a-ok",
    "b-ok",
  ]);
});

Deno.test("mergeGuests() shows a VM's disk from its guest agent and a container's from its runtime", () => {
  const vm = {
    ...structuredClone(fast).vms_runtime.vms[0],
    vmid: 1,
    type: "qemu" as const,
    status: "running",
    disk_bytes: 0,
  };
  const ct = {
    ...vm,
    vmid: 2,
    type: "lxc" as const,
    disk_bytes: 3e9,
    max_disk_bytes: 8e9,
  };
  const rows = mergeGuests([vm, ct], [{
    vmid: 1,
    type: "qemu",
    name: "vm",
    config: {},
    ips: [],
    filesystems: [
      { mountpoint: "/", type: "ext4", total_bytes: 30e9, used_bytes: 10e9 },
      { mountpoint: "/boot", type: "ext4", total_bytes: 1e9, used_bytes: 2e8 },
    ],
    errors: [],
  }]);
  assert.deepEqual(
    rows.map((r) => [r.diskUsedBytes, r.diskTotalBytes, r.diskSource]),
    [[10.2e9, 31e9, "agent"], [3e9, 8e9, "runtime"]],
  );
});
