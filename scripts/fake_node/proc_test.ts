import assert from "node:assert/strict";
import { buildNodeModel } from "./node_model.ts";
import { loadNodeProfile } from "./node_profile.ts";
import { procFiles, startProcTicker } from "./proc.ts";

const profile = `${import.meta.dirname}/profiles/degraded_zfs23.toml`;
const model = buildNodeModel(await loadNodeProfile(profile));
const T0 = Date.parse("2026-03-01T12:00:00Z");

const cpuTotals = (stat: string) =>
  stat.split("\n")[0].split(/\s+/).slice(1).map(Number);
const netRow = (dev: string, iface: string) => {
  const line = dev.split("\n").find((l) =>
    l.trimStart().startsWith(`${iface}:`)
  );
  assert.ok(line, `no ${iface} in net/dev`);
  return line.slice(line.indexOf(":") + 1).trim().split(/\s+/).map(Number);
};
const diskRow = (stats: string, device: string) => {
  const line = stats.split("\n").find((l) =>
    l.split(/\s+/).filter(Boolean)[2] === device
  );
  assert.ok(line, `no ${device} in diskstats`);
  return line.trim().split(/\s+/).slice(3).map(Number);
};

Deno.test("procFiles() counters advance between two readings a second apart", () => {
  const a = procFiles(model, T0);
  const b = procFiles(model, T0 + 1000);
  const [ca, cb] = [cpuTotals(a.stat), cpuTotals(b.stat)];
  const busy = (c: number[]) => c[0] + c[1] + c[2] + c[4] + c[5] + c[6];
  const total = (c: number[]) => c.reduce((s, n) => s + n, 0);
  assert.ok(busy(cb) > busy(ca), "busy jiffies grow");
  // 12 CPUs at 100 jiffies per second: one second adds about 1200 jiffies
  assert.ok(
    Math.abs(total(cb) - total(ca) - 1200) <= 12,
    `${total(cb) - total(ca)}`,
  );
  assert.ok(cb.every((n, i) => n >= ca[i]), "no counter goes backwards");

  for (const iface of ["vmbr0", "tap100i0", "veth101i1"]) {
    const [ra, rb] = [netRow(a["net/dev"], iface), netRow(b["net/dev"], iface)];
    assert.ok(rb[0] > ra[0] && rb[8] > ra[8], `${iface} rx and tx grow`);
  }
  const [da, db] = [
    diskRow(a.diskstats, "nvme0n1"),
    diskRow(b.diskstats, "nvme0n1"),
  ];
  assert.ok(db[2] > da[2] && db[6] > da[6], "sectors read and written grow");
  assert.equal(
    da.length,
    17,
    "kernel 5.5+ diskstats: 17 numbers after the name",
  );
});

Deno.test("procFiles() prints the kernel's formats", () => {
  const f = procFiles(model, T0);
  assert.match(f.stat, /^cpu {2}\d+( \d+){9}\ncpu0 \d+/);
  assert.match(f.stat, /\nbtime \d+\n/);
  assert.match(f.loadavg, /^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/);
  assert.match(
    f.meminfo,
    /^MemTotal: +100663296 kB\nMemFree: +\d+ kB\nMemAvailable: +\d+ kB\n/,
  );
  assert.match(f.uptime, /^\d+\.\d\d \d+\.\d\d\n$/);
  const header = f["net/dev"].split("\n").slice(0, 2);
  assert.equal(
    header[0],
    "Inter-|   Receive                                                |  Transmit",
  );
  assert.match(f["net/dev"], /\n {4}lo: *\d+/);
  assert.match(f.diskstats, /\n 230 +0 zd0 /, "zvols show up as zd*");
  assert.match(f.diskstats, /\n {3}7 +0 loop0 0 0 0/);
});

Deno.test("startProcTicker() writes the tree and keeps rewriting it on its clock", async () => {
  const dir = await Deno.makeTempDir();
  let now = T0;
  const ticker = await startProcTicker({
    dir,
    model,
    clock: () => now,
    intervalMs: 10,
  });
  try {
    const first = await Deno.readTextFile(`${dir}/uptime`);
    now += 5000;
    let second = first;
    for (let i = 0; i < 100 && second === first; i++) {
      await new Promise((r) => setTimeout(r, 10));
      second = await Deno.readTextFile(`${dir}/uptime`);
    }
    assert.equal(Number(second.split(" ")[0]) - Number(first.split(" ")[0]), 5);
    assert.ok((await Deno.stat(`${dir}/net/dev`)).isFile);
  } finally {
    await ticker.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("procFiles() CPU follows a daily curve: busier at 14:00 UTC than at 02:00", () => {
  // busy share over ten minutes, so the minutes-long waves average out
  const busyShare = (atMs: number) => {
    const [a, b] = [atMs, atMs + 600_000].map((t) =>
      cpuTotals(procFiles(model, t).stat)
    );
    const busy = (c: number[]) => c[0] + c[1] + c[2] + c[4] + c[5] + c[6];
    const total = (c: number[]) => c.reduce((s, n) => s + n, 0);
    return (busy(b) - busy(a)) / (total(b) - total(a));
  };
  const day = Date.parse("2026-03-01T14:00:00Z");
  const night = Date.parse("2026-03-02T02:00:00Z");
  const [peak, trough] = [busyShare(day), busyShare(night)];
  assert.ok(peak > trough * 2, `peak ${peak}, trough ${trough}`);
  assert.ok(trough > 0, `trough ${trough}`);
});
