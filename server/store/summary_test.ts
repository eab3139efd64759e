import assert from "node:assert/strict";
import { isPhysicalIface, summarize } from "./summary.ts";
import { sampleFixture } from "../testing/samples.ts";

const fast = await sampleFixture("fast");

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

Deno.test("summarize() sums physical NIC rates only, so bridged traffic counts once", () => {
  const sample = {
    ...fast,
    host: {
      ...fast.host,
      net: [
        { iface: "eno1", rx_bytes_per_s: 1000, tx_bytes_per_s: 200 },
        { iface: "vmbr0", rx_bytes_per_s: 1000, tx_bytes_per_s: 200 },
        { iface: "tap100i0", rx_bytes_per_s: 150, tx_bytes_per_s: 900 },
        { iface: "eno2", rx_bytes_per_s: 5, tx_bytes_per_s: null },
      ],
    },
  };
  const s = summarize({ interval: "fast", data: sample });
  assert.equal(s?.net_rx, 1005);
  assert.equal(s?.net_tx, 200);
});

Deno.test("summarize() derives used memory and keeps pool capacity by name", async () => {
  const s = summarize({ interval: "fast", data: fast });
  assert.ok(s);
  assert.equal(
    s.mem_used,
    fast.host.mem_total_bytes! - fast.host.mem_available_bytes!,
  );
  assert.deepEqual(
    Object.keys(s.pools),
    fast.zfs_pools.pools.map((p) => p.name),
  );
  assert.equal(
    summarize({
      interval: "medium",
      data: await sampleFixture("medium"),
    }),
    null,
  );
});
